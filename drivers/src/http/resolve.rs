//! [`Resolver`]: host names to socket addresses, each name looked up at
//! most once per [`DNS_TTL`]. IP literals never reach the system resolver;
//! a miss runs the system's blocking lookup on smol's blocking pool, so the
//! runtime thread never waits on DNS.

use std::collections::HashMap;
use std::io;
use std::net::{IpAddr, SocketAddr};
use std::sync::{Mutex, PoisonError};
use std::time::{Duration, Instant};

/// How long a resolved host name is reused.
pub(super) const DNS_TTL: Duration = Duration::from_secs(60);

/// A looked-up `host:port`: until when it is reused, and its addresses.
type Entry = (Instant, Vec<SocketAddr>);

/// A caching resolver.
#[derive(Debug, Default)]
pub(super) struct Resolver {
    cache: Mutex<HashMap<(String, u16), Entry>>,
}

impl Resolver {
    /// The addresses of `host:port`.
    pub async fn resolve(&self, host: &str, port: u16) -> io::Result<Vec<SocketAddr>> {
        if let Ok(ip) = host.parse::<IpAddr>() {
            return Ok(vec![SocketAddr::new(ip, port)]);
        }
        let key = (host.to_owned(), port);
        let now = Instant::now();
        if let Some(addrs) = self.cached(&key, now) {
            return Ok(addrs);
        }
        let addrs = smol::net::resolve((host, port)).await?;
        if addrs.is_empty() {
            return Err(io::Error::new(
                io::ErrorKind::NotFound,
                format!("{host} has no address"),
            ));
        }
        let mut cache = self.cache.lock().unwrap_or_else(PoisonError::into_inner);
        cache.retain(|_, (until, _)| *until > now);
        cache.insert(key, (now + DNS_TTL, addrs.clone()));
        Ok(addrs)
    }

    fn cached(&self, key: &(String, u16), now: Instant) -> Option<Vec<SocketAddr>> {
        let cache = self.cache.lock().unwrap_or_else(PoisonError::into_inner);
        let (until, addrs) = cache.get(key)?;
        (*until > now).then(|| addrs.clone())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn ip_literals_resolve_to_themselves_without_a_lookup() {
        let resolver = Resolver::default();
        for (host, addr) in [("127.0.0.1", "127.0.0.1:8080"), ("::1", "[::1]:8080")] {
            let addrs = smol::block_on(resolver.resolve(host, 8080)).expect("a literal");
            let expected: SocketAddr = addr.parse().expect("a socket address");
            assert_eq!(addrs, vec![expected]);
        }
        let cache = resolver
            .cache
            .lock()
            .unwrap_or_else(PoisonError::into_inner);
        assert!(cache.is_empty(), "literals are not cached");
    }

    #[test]
    fn names_are_looked_up_once_then_served_from_the_cache() {
        let resolver = Resolver::default();
        let first = smol::block_on(resolver.resolve("localhost", 4000)).expect("localhost");
        assert!(!first.is_empty());
        let marked: SocketAddr = "192.0.2.1:4000".parse().expect("a socket address");
        {
            let mut cache = resolver
                .cache
                .lock()
                .unwrap_or_else(PoisonError::into_inner);
            let (_, cached) = cache
                .get_mut(&("localhost".to_owned(), 4000))
                .expect("cached");
            assert_eq!(cached, &first);
            // Mark the entry so a second lookup visibly comes from the cache.
            *cached = vec![marked];
        }
        let second = smol::block_on(resolver.resolve("localhost", 4000)).expect("cached");
        assert_eq!(second, vec![marked]);
    }
}
