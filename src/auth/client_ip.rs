//! The client's address, for rate limits, `/metrics` and the logs.
//!
//! Behind a reverse proxy every connection comes from the proxy, so its `X-Forwarded-For` must
//! be read, but only from proxies named in `TRUSTED_PROXIES`: anyone else can write that header.
//! The list is read from the right (the entry the nearest proxy added) and the first address
//! that is not a trusted proxy is the client.

use std::future::{ready, Ready};
use std::net::IpAddr;

use actix_web::{dev::Payload, web, FromRequest, HttpRequest};

use crate::config::IpNet;
use crate::error::AppError;
use crate::state::AppState;

/// The address of the client that sent this request.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct ClientIp(pub IpAddr);

/// The client of a connection from `peer` that carried `forwarded_for` (every
/// `X-Forwarded-For` header, in order), believing only `trusted` proxies.
pub fn client_ip<'a>(
    peer: IpAddr,
    forwarded_for: impl DoubleEndedIterator<Item = &'a str>,
    trusted: &[IpNet],
) -> IpAddr {
    let is_trusted = |ip: &IpAddr| trusted.iter().any(|net| net.contains(ip));
    if !is_trusted(&peer) {
        return peer;
    }
    let mut client = peer;
    for entry in forwarded_for.rev().flat_map(|header| header.rsplit(',')) {
        // A malformed entry is where the chain stops being trustworthy.
        let Ok(ip) = entry.trim().parse::<IpAddr>() else {
            break;
        };
        client = ip;
        if !is_trusted(&ip) {
            break;
        }
    }
    client
}

impl ClientIp {
    pub fn of(req: &HttpRequest) -> Self {
        let peer = req
            .peer_addr()
            .map(|a| a.ip())
            .unwrap_or(IpAddr::from([0, 0, 0, 0]));
        let trusted = req
            .app_data::<web::Data<AppState>>()
            .map(|state| state.settings.trusted_proxies.as_slice())
            .unwrap_or_default();
        let headers = req
            .headers()
            .get_all("x-forwarded-for")
            .filter_map(|v| v.to_str().ok())
            .collect::<Vec<_>>();
        Self(client_ip(peer, headers.into_iter(), trusted))
    }
}

impl FromRequest for ClientIp {
    type Error = AppError;
    type Future = Ready<Result<Self, AppError>>;

    fn from_request(req: &HttpRequest, _: &mut Payload) -> Self::Future {
        ready(Ok(Self::of(req)))
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::config::parse_networks;

    fn ip(s: &str) -> IpAddr {
        s.parse().expect("ip")
    }

    #[test]
    fn without_trusted_proxies_the_socket_is_the_client_whatever_the_header_says() {
        let client = client_ip(ip("203.0.113.9"), ["1.2.3.4"].into_iter(), &[]);
        assert_eq!(client, ip("203.0.113.9"));
    }

    #[test]
    fn behind_a_trusted_proxy_the_nearest_untrusted_address_is_the_client() {
        let trusted = parse_networks("10.0.0.0/8").expect("nets");
        // The client forged the first entry; the proxy appended the real address.
        let client = client_ip(
            ip("10.0.0.2"),
            ["6.6.6.6, 198.51.100.7", "10.1.1.1"].into_iter(),
            &trusted,
        );
        assert_eq!(client, ip("198.51.100.7"));
    }

    #[test]
    fn a_trusted_proxy_without_a_header_is_itself_the_client() {
        let trusted = parse_networks("10.0.0.0/8").expect("nets");
        assert_eq!(
            client_ip(ip("10.0.0.2"), std::iter::empty(), &trusted),
            ip("10.0.0.2")
        );
        assert_eq!(
            client_ip(ip("10.0.0.2"), ["garbage"].into_iter(), &trusted),
            ip("10.0.0.2")
        );
    }
}
