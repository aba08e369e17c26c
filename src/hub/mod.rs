//! The hub (驻企办): the problem lifecycle as dispatchers, departments, officers and
//! enterprise contacts drive it, the queue with its leases, and the classifier as the service
//! holds it. Handlers in `routes` parse and authorise; this layer runs the transactions.

pub mod actions;
pub mod classifier;
pub mod meeting;
pub mod queue;
