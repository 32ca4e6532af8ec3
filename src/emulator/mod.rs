//! An embedded stand-in for WeChat's immediate-delivery platform and the carriers' test systems.
