//! The demo city's photos and documents (附件): two site photos on 张伟's newest open problem,
//! one on his latest report, and a department's reply letter (PDF) on a problem it answered —
//! made as the API makes them (checked, cleaned, with thumbnails), the rows written in the
//! seeding transaction and the files put in the store after it commits.

use anyhow::{anyhow, Context};
use chrono::{DateTime, Duration, Utc};
use diesel::prelude::*;
use image::{DynamicImage, ImageFormat, Rgb, RgbImage};
use uuid::Uuid;

use super::app_error;
use crate::attachments::store::Store;
use crate::attachments::{describe, prepare};
use crate::db::models::attachment::{Attachment, Target};
use crate::db::models::user::User;
use crate::domain::lifecycle::Status;
use crate::domain::role::Role;
use crate::schema::{daily_reports, problems, users};

/// Objects to put in the store once the rows are committed.
pub(super) type Objects = Vec<(String, Vec<u8>)>;

pub(super) fn seed(conn: &mut PgConnection) -> anyhow::Result<Objects> {
    let zhang = User::find_by_username(conn, "officer.zhang")?.ok_or_else(|| anyhow!("no officer.zhang"))?;
    let mut objects = Vec::new();
    let open: Option<(Uuid, DateTime<Utc>)> = problems::table
        .filter(problems::reporter_id.eq(zhang.id))
        .filter(problems::status.ne_all(Status::FINISHED))
        .order(problems::created_at.desc())
        .select((problems::id, problems::created_at))
        .first(conn)
        .optional()?;
    if let Some((problem, at)) = open {
        for (name, hue) in [("变压器.jpg", 0u8), ("配电柜.jpg", 1)] {
            let at = at + Duration::minutes(2);
            let photo = site_photo(hue)?;
            objects.extend(attach(
                conn,
                zhang.id,
                name,
                photo,
                Target::Problem(problem),
                Role::Officer,
                at,
            )?);
        }
    }
    let report: Option<(Uuid, DateTime<Utc>)> = daily_reports::table
        .filter(daily_reports::officer_id.eq(zhang.id))
        .order(daily_reports::day.desc())
        .select((daily_reports::id, daily_reports::submitted_at))
        .first(conn)
        .optional()?;
    if let Some((report, at)) = report {
        let photo = site_photo(2)?;
        objects.extend(attach(
            conn,
            zhang.id,
            "走访车间.jpg",
            photo,
            Target::Report(report),
            Role::Officer,
            at,
        )?);
    }
    let answered: Option<(Uuid, Option<DateTime<Utc>>, Uuid)> = problems::table
        .inner_join(users::table.on(users::unit_id.eq(problems::department_id.nullable())))
        .filter(problems::responded_at.is_not_null())
        .filter(users::roles.contains(vec![Role::Department.as_str()]))
        .order((problems::responded_at, users::username))
        .select((problems::id, problems::responded_at, users::id))
        .first(conn)
        .optional()?;
    if let Some((problem, Some(at), clerk)) = answered {
        objects.extend(attach(
            conn,
            clerk,
            "答复函.pdf",
            reply_letter(),
            Target::Problem(problem),
            Role::Department,
            at,
        )?);
    }
    Ok(objects)
}

/// Prepares a file as an upload would, writes its row and attaches it.
fn attach(
    conn: &mut PgConnection,
    uploader: Uuid,
    name: &str,
    bytes: Vec<u8>,
    target: Target,
    role: Role,
    at: DateTime<Utc>,
) -> anyhow::Result<Objects> {
    let prepared = prepare(name, bytes).map_err(app_error)?;
    let (row, objects) = describe(uploader, prepared, at);
    row.insert(conn)?;
    Attachment::attach(conn, &[row.id], target, role, at)?;
    Ok(objects)
}

/// Puts the objects in the store, on a thread of its own with its own runtime (seeding is
/// synchronous and may run inside a test's runtime).
pub(super) fn store(store: &Store, objects: Objects) -> anyhow::Result<()> {
    let store = store.clone();
    std::thread::spawn(move || -> anyhow::Result<()> {
        let runtime = tokio::runtime::Builder::new_current_thread()
            .enable_all()
            .build()?;
        runtime.block_on(async {
            for (key, bytes) in objects {
                store.put(&key, bytes).await.map_err(app_error)?;
            }
            Ok(())
        })
    })
    .join()
    .map_err(|_| anyhow!("storing the demo photos panicked"))?
    .context("storing the demo photos")
}

/// A picture of a site: sky, ground and a grey cabinet with a yellow stripe, in one of three
/// lights; a JPEG as a phone sends it.
fn site_photo(light: u8) -> anyhow::Result<Vec<u8>> {
    let (width, height) = (960, 720);
    let picture = RgbImage::from_fn(width, height, |x, y| {
        let cabinet = (360..600).contains(&x) && (260..560).contains(&y);
        if cabinet && (300..330).contains(&y) {
            Rgb([230, 190, 40])
        } else if cabinet {
            Rgb([120 + (x % 7) as u8, 124, 128])
        } else if y < 400 {
            let shade = (y / 4) as u8;
            Rgb([90 + shade / 2 + light * 20, 150 + shade / 3, 220 - light * 30])
        } else {
            Rgb([110 + (x * y % 13) as u8, 100 + light * 10, 80])
        }
    });
    let mut jpeg = Vec::new();
    DynamicImage::ImageRgb8(picture).write_to(&mut std::io::Cursor::new(&mut jpeg), ImageFormat::Jpeg)?;
    Ok(jpeg)
}

/// A one-page PDF letter (Latin text in a standard font, so no font is embedded).
fn reply_letter() -> Vec<u8> {
    let text = "BT /F1 16 Tf 72 770 Td (Reply letter - Zhuzhou demo city) Tj 0 -28 Td \
                /F1 12 Tf (The capacity increase was approved; works start next week.) Tj ET";
    let objects = [
        "<< /Type /Catalog /Pages 2 0 R >>".to_owned(),
        "<< /Type /Pages /Kids [3 0 R] /Count 1 >>".to_owned(),
        "<< /Type /Page /Parent 2 0 R /MediaBox [0 0 595 842] /Contents 4 0 R \
         /Resources << /Font << /F1 5 0 R >> >> >>"
            .to_owned(),
        format!("<< /Length {} >>\nstream\n{text}\nendstream", text.len()),
        "<< /Type /Font /Subtype /Type1 /BaseFont /Helvetica >>".to_owned(),
    ];
    let mut pdf = b"%PDF-1.4\n".to_vec();
    let mut offsets = Vec::new();
    for (n, object) in objects.iter().enumerate() {
        offsets.push(pdf.len());
        pdf.extend_from_slice(format!("{} 0 obj\n{object}\nendobj\n", n + 1).as_bytes());
    }
    let xref = pdf.len();
    pdf.extend_from_slice(format!("xref\n0 {}\n0000000000 65535 f \n", objects.len() + 1).as_bytes());
    for offset in offsets {
        pdf.extend_from_slice(format!("{offset:010} 00000 n \n").as_bytes());
    }
    pdf.extend_from_slice(
        format!(
            "trailer\n<< /Size {} /Root 1 0 R >>\nstartxref\n{xref}\n%%EOF\n",
            objects.len() + 1
        )
        .as_bytes(),
    );
    pdf
}
