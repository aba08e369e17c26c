//! Notifications that leave the server (issue 13, being built): WeChat subscribe messages,
//! group robots of units, the in-app inbox. So far: the group robots' signing.

pub mod robot;
