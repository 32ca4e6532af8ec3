fn main() -> std::process::ExitCode {
    std::process::ExitCode::from(simulate::app::main())
}
