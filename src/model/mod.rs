//! The model: the platform's statuses, the carriers' profiles and the validated plan.

pub mod carriers;
pub mod coverage;
pub mod paths;
pub mod plan;
pub mod statuses;
