//! Where an officer is: WGS-84 → GCJ-02 conversion and great-circle distance.
//!
//! Chinese maps and `wx.getLocation({type: 'gcj02'})` use GCJ-02, a datum offset from GPS
//! (WGS-84) by a few hundred metres. Enterprise locations are stored in GCJ-02, so a WGS-84
//! fix is converted before any distance is measured.

use std::f64::consts::PI;

/// Earth radius for haversine distances, in metres (IUGG mean radius).
const EARTH_RADIUS_M: f64 = 6_371_008.8;
/// The Krasovsky 1940 ellipsoid that GCJ-02 is defined on.
const KRASOVSKY_A: f64 = 6_378_245.0;
const KRASOVSKY_EE: f64 = 0.006_693_421_622_965_943;

/// A GCJ-02 point.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct GeoPoint {
    pub lat: f64,
    pub lng: f64,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Datum {
    Gcj02,
    Wgs84,
}

impl GeoPoint {
    /// A point from the phone, converted to GCJ-02; `None` when the numbers are not a place.
    pub fn from_device(lat: f64, lng: f64, datum: Datum) -> Option<Self> {
        let valid = lat.is_finite()
            && lng.is_finite()
            && (-90.0..=90.0).contains(&lat)
            && (-180.0..=180.0).contains(&lng);
        if !valid {
            return None;
        }
        Some(match datum {
            Datum::Gcj02 => Self { lat, lng },
            Datum::Wgs84 => wgs84_to_gcj02(lat, lng),
        })
    }

    /// Great-circle distance in metres.
    pub fn distance_m(self, other: GeoPoint) -> f64 {
        let (phi1, phi2) = (self.lat.to_radians(), other.lat.to_radians());
        let dphi = (other.lat - self.lat).to_radians();
        let dlambda = (other.lng - self.lng).to_radians();
        let a = (dphi / 2.0).sin().powi(2) + phi1.cos() * phi2.cos() * (dlambda / 2.0).sin().powi(2);
        2.0 * EARTH_RADIUS_M * a.sqrt().atan2((1.0 - a).sqrt())
    }
}

fn outside_china(lat: f64, lng: f64) -> bool {
    !(72.004..=137.8347).contains(&lng) || !(0.8293..=55.8271).contains(&lat)
}

fn transform_lat(x: f64, y: f64) -> f64 {
    let mut ret = -100.0 + 2.0 * x + 3.0 * y + 0.2 * y * y + 0.1 * x * y + 0.2 * x.abs().sqrt();
    ret += (20.0 * (6.0 * x * PI).sin() + 20.0 * (2.0 * x * PI).sin()) * 2.0 / 3.0;
    ret += (20.0 * (y * PI).sin() + 40.0 * (y / 3.0 * PI).sin()) * 2.0 / 3.0;
    ret += (160.0 * (y / 12.0 * PI).sin() + 320.0 * (y * PI / 30.0).sin()) * 2.0 / 3.0;
    ret
}

fn transform_lng(x: f64, y: f64) -> f64 {
    let mut ret = 300.0 + x + 2.0 * y + 0.1 * x * x + 0.1 * x * y + 0.1 * x.abs().sqrt();
    ret += (20.0 * (6.0 * x * PI).sin() + 20.0 * (2.0 * x * PI).sin()) * 2.0 / 3.0;
    ret += (20.0 * (x * PI).sin() + 40.0 * (x / 3.0 * PI).sin()) * 2.0 / 3.0;
    ret += (150.0 * (x / 12.0 * PI).sin() + 300.0 * (x / 30.0 * PI).sin()) * 2.0 / 3.0;
    ret
}

/// The published GCJ-02 transform; points outside China are not shifted.
pub fn wgs84_to_gcj02(lat: f64, lng: f64) -> GeoPoint {
    if outside_china(lat, lng) {
        return GeoPoint { lat, lng };
    }
    let dlat = transform_lat(lng - 105.0, lat - 35.0);
    let dlng = transform_lng(lng - 105.0, lat - 35.0);
    let radlat = lat / 180.0 * PI;
    let magic = 1.0 - KRASOVSKY_EE * radlat.sin().powi(2);
    let sqrt_magic = magic.sqrt();
    let dlat = (dlat * 180.0) / ((KRASOVSKY_A * (1.0 - KRASOVSKY_EE)) / (magic * sqrt_magic) * PI);
    let dlng = (dlng * 180.0) / (KRASOVSKY_A / sqrt_magic * radlat.cos() * PI);
    GeoPoint {
        lat: lat + dlat,
        lng: lng + dlng,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn one_degree_of_latitude_is_about_111_km() {
        let a = GeoPoint {
            lat: 27.0,
            lng: 113.0,
        };
        let b = GeoPoint {
            lat: 28.0,
            lng: 113.0,
        };
        assert!((a.distance_m(b) - 111_195.0).abs() < 50.0);
        assert_eq!(a.distance_m(a), 0.0);
    }

    #[test]
    fn zhuzhou_gps_fixes_shift_by_a_few_hundred_metres() {
        // Tiananmen's published pair: WGS-84 (39.90734, 116.39089) ≈ GCJ-02 (39.90874, 116.39713).
        let gcj = wgs84_to_gcj02(39.90734, 116.39089);
        assert!((gcj.lat - 39.90874).abs() < 0.0002, "{gcj:?}");
        assert!((gcj.lng - 116.39713).abs() < 0.0002, "{gcj:?}");
        let wgs = GeoPoint {
            lat: 27.8274,
            lng: 113.1340,
        };
        let shift = wgs.distance_m(wgs84_to_gcj02(wgs.lat, wgs.lng));
        assert!((100.0..800.0).contains(&shift), "{shift}");
    }

    #[test]
    fn points_outside_china_are_not_shifted() {
        assert_eq!(
            wgs84_to_gcj02(48.8584, 2.2945),
            GeoPoint {
                lat: 48.8584,
                lng: 2.2945
            }
        );
    }

    #[test]
    fn impossible_coordinates_are_refused() {
        assert!(GeoPoint::from_device(91.0, 113.0, Datum::Gcj02).is_none());
        assert!(GeoPoint::from_device(f64::NAN, 113.0, Datum::Wgs84).is_none());
    }
}
