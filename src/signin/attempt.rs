//! A sign-in request, checked: the officer's position (converted to GCJ-02), the server's
//! time and China-local day, and the id its record will have.

use chrono::{DateTime, NaiveDate, Utc};
use serde::Deserialize;
use uuid::Uuid;

use crate::clock::local_day;
use crate::db::models::sign_in::{NewSignIn, SignIn};
use crate::domain::field_error::FieldCode;
use crate::domain::geo::{Datum, GeoPoint};
use crate::error::{AppError, ErrorCode};

/// A fix worse than this (metres) cannot tell on site from down the road.
pub const MAX_ACCURACY_M: f64 = 1000.0;
const MAX_REMARK: usize = 200;
const MAX_DEVICE_ID: usize = 128;

#[derive(Debug, Clone, Copy, Deserialize, Default)]
#[serde(rename_all = "lowercase")]
pub enum Coord {
    #[default]
    Gcj02,
    Wgs84,
}

/// The body of `POST /sign-ins`.
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct SignInRequest {
    pub enterprise_id: Uuid,
    pub lat: f64,
    pub lng: f64,
    #[serde(default)]
    pub coord: Coord,
    pub accuracy_m: Option<f64>,
    pub remark: Option<String>,
    pub device_id: Option<String>,
}

impl SignInRequest {
    /// The request as an attempt of `officer_id` at `now`, or the first rule it breaks.
    pub fn check(self, officer_id: Uuid, now: DateTime<Utc>) -> Result<SignInAttempt, AppError> {
        let datum = match self.coord {
            Coord::Gcj02 => Datum::Gcj02,
            Coord::Wgs84 => Datum::Wgs84,
        };
        let point = GeoPoint::from_device(self.lat, self.lng, datum)
            .ok_or_else(|| AppError::invalid_field("lat", FieldCode::Invalid, "坐标无效"))?;
        if let Some(accuracy) = self.accuracy_m {
            if !accuracy.is_finite() || accuracy < 0.0 {
                return Err(AppError::invalid_field(
                    "accuracy_m",
                    FieldCode::OutOfRange,
                    "定位精度应为非负数（米）",
                ));
            }
            if accuracy > MAX_ACCURACY_M {
                return Err(AppError::with_details(
                    ErrorCode::SigninInaccurate,
                    "定位精度不足，请到开阔处重新定位后签到 (location fix too inaccurate)",
                    serde_json::json!({ "accuracy_m": accuracy, "max_accuracy_m": MAX_ACCURACY_M }),
                ));
            }
        }
        let remark = self.remark.map(|r| r.trim().to_owned()).filter(|r| !r.is_empty());
        if remark.as_ref().is_some_and(|r| r.chars().count() > MAX_REMARK) {
            return Err(AppError::invalid_field(
                "remark",
                FieldCode::TooLong,
                "备注不能超过200个字符",
            ));
        }
        // PostgreSQL text cannot hold U+0000: refused here, before it could fail a whole batch.
        if remark.as_ref().is_some_and(|r| r.contains('\0')) {
            return Err(AppError::invalid_field(
                "remark",
                FieldCode::Invalid,
                "备注不能包含空字符 (U+0000)",
            ));
        }
        let device_id = self
            .device_id
            .map(|d| d.trim().to_owned())
            .filter(|d| !d.is_empty());
        if device_id
            .as_ref()
            .is_some_and(|d| d.len() > MAX_DEVICE_ID || d.contains('\0'))
        {
            return Err(AppError::invalid_field(
                "device_id",
                FieldCode::TooLong,
                "device_id 不能超过128个字符，且不能包含空字符",
            ));
        }
        Ok(SignInAttempt {
            id: Uuid::new_v4(),
            officer_id,
            enterprise_id: self.enterprise_id,
            point,
            accuracy_m: self.accuracy_m,
            remark,
            device_id,
            now,
            day: local_day(now),
        })
    }
}

/// One sign-in request, checked, with the server's time and the id its record will have.
#[derive(Debug)]
pub struct SignInAttempt {
    pub id: Uuid,
    pub officer_id: Uuid,
    pub enterprise_id: Uuid,
    /// GCJ-02, converted already when the phone sent WGS-84.
    pub point: GeoPoint,
    pub accuracy_m: Option<f64>,
    pub remark: Option<String>,
    pub device_id: Option<String>,
    pub now: DateTime<Utc>,
    pub day: NaiveDate,
}

impl SignInAttempt {
    /// The record this attempt makes at an enterprise, measured here (the transactional path).
    pub fn record<'a>(
        &'a self,
        region_code: &'a str,
        enterprise: GeoPoint,
        geofence_m: i32,
        new_device: bool,
    ) -> NewSignIn<'a> {
        let distance_m = self.point.distance_m(enterprise);
        NewSignIn {
            officer_id: self.officer_id,
            enterprise_id: self.enterprise_id,
            region_code,
            day: self.day,
            signed_at: self.now,
            lat: self.point.lat,
            lng: self.point.lng,
            accuracy_m: self.accuracy_m,
            distance_m,
            within_geofence: distance_m <= f64::from(geofence_m),
            remark: self.remark.as_deref(),
            device_id: self.device_id.as_deref(),
            new_device,
        }
    }

    /// The row `sign_ins_at_once` wrote for this attempt, with what it measured.
    pub(super) fn written(
        &self,
        region_code: String,
        distance_m: f64,
        within_geofence: bool,
        new_device: bool,
    ) -> SignIn {
        SignIn {
            id: self.id,
            officer_id: self.officer_id,
            enterprise_id: self.enterprise_id,
            region_code,
            day: self.day,
            signed_at: self.now,
            lat: self.point.lat,
            lng: self.point.lng,
            accuracy_m: self.accuracy_m,
            distance_m,
            within_geofence,
            remark: self.remark.clone(),
            device_id: self.device_id.clone(),
            new_device,
        }
    }
}
