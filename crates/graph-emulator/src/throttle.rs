//! Graph's identity-and-access throttling model: token buckets over resource units (RU)
//! and writes, per application and tenant, with windows shortened by `time_scale`.
//!
//! The emulator serves one application in one tenant, so the per-application limits across
//! all tenants (150,000 RU / 20 s, 35,000 writes / 5 min) can never bind before the
//! app+tenant and tenant limits do; they are not modelled.

use jiff::Timestamp;

/// Tenant size decides the RU quota: S < 50 users, M = 50–500, L > 500.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum TenantSize {
    Small,
    Medium,
    Large,
}

impl std::str::FromStr for TenantSize {
    type Err = String;

    fn from_str(s: &str) -> Result<Self, Self::Err> {
        match s.to_ascii_lowercase().as_str() {
            "small" | "s" => Ok(TenantSize::Small),
            "medium" | "m" => Ok(TenantSize::Medium),
            "large" | "l" => Ok(TenantSize::Large),
            _ => Err(format!(
                "unknown tenant size '{s}': expected small, medium or large"
            )),
        }
    }
}

impl TenantSize {
    pub fn for_user_count(users: usize) -> Self {
        match users {
            0..50 => TenantSize::Small,
            50..=500 => TenantSize::Medium,
            _ => TenantSize::Large,
        }
    }
}

/// The quotas and their windows (seconds, before scaling).
#[derive(Debug, Clone, PartialEq)]
pub struct ThrottleLimits {
    pub resource_units_small: f64,
    pub resource_units_medium: f64,
    pub resource_units_large: f64,
    pub resource_unit_window_secs: f64,
    pub app_tenant_writes: f64,
    pub app_tenant_write_window_secs: f64,
    pub tenant_writes: f64,
    pub tenant_write_window_secs: f64,
}

impl Default for ThrottleLimits {
    /// The documented limits (learn.microsoft.com/graph/throttling-limits, 2025-01-14).
    fn default() -> Self {
        Self {
            resource_units_small: 3_500.0,
            resource_units_medium: 5_000.0,
            resource_units_large: 8_000.0,
            resource_unit_window_secs: 10.0,
            app_tenant_writes: 3_000.0,
            app_tenant_write_window_secs: 150.0,
            tenant_writes: 18_000.0,
            tenant_write_window_secs: 300.0,
        }
    }
}

impl ThrottleLimits {
    fn resource_units(&self, size: TenantSize) -> f64 {
        match size {
            TenantSize::Small => self.resource_units_small,
            TenantSize::Medium => self.resource_units_medium,
            TenantSize::Large => self.resource_units_large,
        }
    }
}

/// What one request costs.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct RequestCost {
    pub resource_units: u32,
    pub writes: u32,
}

impl RequestCost {
    /// The documented base costs and modifiers. `path` is relative to `/v1.0/`.
    pub fn of(
        method: &str,
        path: &str,
        has_select: bool,
        has_expand: bool,
        top: Option<usize>,
    ) -> Self {
        let segments: Vec<&str> = path.trim_matches('/').split('/').collect();
        let is_write = matches!(method, "POST" | "PATCH" | "PUT" | "DELETE");
        let base: i64 = match (method, segments.as_slice()) {
            ("GET", ["users"]) => 2,
            ("GET", ["groups", _, "members"]) => 3,
            ("GET", ["groups", _, "transitiveMembers"]) => 5,
            ("GET", ["subscribedSkus"]) => 3,
            ("GET", ["applications"]) | ("GET", ["applications", _, "extensionProperties"]) => 2,
            (
                "GET",
                [
                    "users",
                    _,
                    "licenseDetails" | "memberOf" | "ownedObjects" | "transitiveMemberOf",
                ],
            ) => 2,
            _ => 1,
        };
        let mut ru = base;
        if has_select {
            ru -= 1;
        }
        if has_expand {
            ru += 1;
        }
        if top.is_some_and(|t| t < 20) {
            ru -= 1;
        }
        Self {
            resource_units: ru.max(1) as u32,
            writes: u32::from(is_write),
        }
    }
}

/// Why a request was throttled, for the `x-ms-throttle-*` headers.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Throttled {
    pub retry_after_secs: u64,
    /// `Tenant_Application/ReadWrite` and friends.
    pub scope: &'static str,
    /// `ResourceUnitLimitExceeded` or `WriteLimitExceeded`.
    pub information: &'static str,
}

/// An admitted request: the RU charged and how full the fullest bucket is (0.0–1.0).
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Admitted {
    pub resource_units: u32,
    pub usage: f64,
}

#[derive(Debug, Clone)]
struct Bucket {
    /// Units still available.
    available: f64,
    last: Option<Timestamp>,
}

impl Bucket {
    fn new() -> Self {
        Self {
            available: f64::INFINITY,
            last: None,
        }
    }

    /// Refills at `capacity / window` units per second, up to `capacity`.
    fn refill(&mut self, now: Timestamp, capacity: f64, window_secs: f64) {
        let elapsed = self.last.map_or(0.0, |last| {
            (now.as_millisecond() - last.as_millisecond()).max(0) as f64 / 1000.0
        });
        self.available = (self.available + elapsed * capacity / window_secs).min(capacity);
        self.last = Some(now);
    }

    /// Seconds until `cost` units are available, 0 when they are.
    fn wait_for(&self, cost: f64, capacity: f64, window_secs: f64) -> f64 {
        if self.available >= cost {
            0.0
        } else {
            (cost - self.available) * window_secs / capacity
        }
    }
}

/// The throttling state of the emulated tenant.
#[derive(Debug, Clone)]
pub struct Throttle {
    limits: ThrottleLimits,
    time_scale: f64,
    resource_units: Bucket,
    app_tenant_writes: Bucket,
    tenant_writes: Bucket,
}

impl Throttle {
    /// `time_scale` N makes every window N times shorter.
    pub fn new(limits: ThrottleLimits, time_scale: f64) -> Self {
        Self {
            limits,
            time_scale: if time_scale > 0.0 { time_scale } else { 1.0 },
            resource_units: Bucket::new(),
            app_tenant_writes: Bucket::new(),
            tenant_writes: Bucket::new(),
        }
    }

    /// Charges a request or says how long to wait. A throttled request is not charged.
    pub fn admit(
        &mut self,
        cost: RequestCost,
        size: TenantSize,
        now: Timestamp,
    ) -> Result<Admitted, Throttled> {
        let l = &self.limits;
        let scale = self.time_scale;
        let buckets = [
            (
                l.resource_units(size),
                l.resource_unit_window_secs / scale,
                f64::from(cost.resource_units),
                "Tenant_Application/ReadWrite",
                "ResourceUnitLimitExceeded",
            ),
            (
                l.app_tenant_writes,
                l.app_tenant_write_window_secs / scale,
                f64::from(cost.writes),
                "Tenant_Application/Write",
                "WriteLimitExceeded",
            ),
            (
                l.tenant_writes,
                l.tenant_write_window_secs / scale,
                f64::from(cost.writes),
                "Tenant/Write",
                "WriteLimitExceeded",
            ),
        ];
        let mut states = [
            &mut self.resource_units,
            &mut self.app_tenant_writes,
            &mut self.tenant_writes,
        ];
        let mut worst: Option<(f64, &'static str, &'static str)> = None;
        for (bucket, (capacity, window, units, scope, info)) in states.iter_mut().zip(buckets) {
            bucket.refill(now, capacity, window);
            let wait = bucket.wait_for(units, capacity, window);
            if wait > 0.0 && worst.is_none_or(|(w, _, _)| wait > w) {
                worst = Some((wait, scope, info));
            }
        }
        if let Some((wait, scope, information)) = worst {
            return Err(Throttled {
                // Integer seconds, at least 1: SDK retry handlers parse it with int().
                retry_after_secs: (wait.ceil() as u64).max(1),
                scope,
                information,
            });
        }
        let mut usage: f64 = 0.0;
        for (bucket, (capacity, _, units, _, _)) in states.iter_mut().zip(buckets) {
            bucket.available -= units;
            usage = usage.max(1.0 - bucket.available / capacity);
        }
        Ok(Admitted {
            resource_units: cost.resource_units,
            usage,
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use jiff::SignedDuration;

    fn write() -> RequestCost {
        RequestCost::of("PATCH", "users/x", false, false, None)
    }

    #[test]
    fn documented_costs() {
        assert_eq!(
            RequestCost::of("GET", "users", true, false, Some(999)).resource_units,
            1
        );
        assert_eq!(
            RequestCost::of("GET", "users", false, false, Some(10)).resource_units,
            1
        );
        assert_eq!(
            RequestCost::of("GET", "groups/g/members", true, false, None).resource_units,
            2
        );
        assert_eq!(
            write(),
            RequestCost {
                resource_units: 1,
                writes: 1
            }
        );
    }

    #[test]
    fn writes_beyond_the_quota_wait_for_the_bucket_to_refill() {
        let limits = ThrottleLimits {
            app_tenant_writes: 3.0,
            app_tenant_write_window_secs: 150.0,
            ..ThrottleLimits::default()
        };
        let mut t = Throttle::new(limits, 1.0);
        let start = Timestamp::from_second(1_700_000_000).unwrap();
        for _ in 0..3 {
            t.admit(write(), TenantSize::Small, start).unwrap();
        }
        let throttled = t.admit(write(), TenantSize::Small, start).unwrap_err();
        // One write refills every 150 / 3 = 50 seconds.
        assert_eq!(throttled.retry_after_secs, 50);
        assert_eq!(throttled.information, "WriteLimitExceeded");
        let later = start.checked_add(SignedDuration::from_secs(50)).unwrap();
        assert!(t.admit(write(), TenantSize::Small, later).is_ok());
    }

    #[test]
    fn time_scale_shortens_the_window() {
        let limits = ThrottleLimits {
            app_tenant_writes: 3.0,
            ..ThrottleLimits::default()
        };
        let mut t = Throttle::new(limits, 10.0);
        let start = Timestamp::from_second(1_700_000_000).unwrap();
        for _ in 0..3 {
            t.admit(write(), TenantSize::Small, start).unwrap();
        }
        assert_eq!(
            t.admit(write(), TenantSize::Small, start)
                .unwrap_err()
                .retry_after_secs,
            5
        );
    }
}
