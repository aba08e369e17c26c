//! 附件: photos and documents uploaded on their own, checked by their content, cleaned of the
//! camera's metadata, attached to problems and reports, and downloaded only with the scope of
//! what they are attached to.

use std::io::Cursor;

use image::{DynamicImage, ImageFormat, Rgb, RgbImage};
use serde_json::{json, Value};
use sha2::{Digest, Sha256};

use crate::helpers::{spawn_app, Reply, TestApp};
use crate::lifecycle::{assigned, file};
use crate::spec::{disagreements, schema_disagreements};

/// A JPEG photo of `width`×`height` as a phone's camera writes it: with an EXIF block that
/// names the camera and holds the GPS position where it was taken.
fn phone_photo(width: u32, height: u32) -> Vec<u8> {
    let picture = RgbImage::from_fn(width, height, |x, y| {
        Rgb([(x * 3 % 256) as u8, (y * 5 % 256) as u8, 120])
    });
    let mut jpeg = Vec::new();
    DynamicImage::ImageRgb8(picture)
        .write_to(&mut Cursor::new(&mut jpeg), ImageFormat::Jpeg)
        .expect("jpeg");
    let exif = gps_exif();
    let mut photo = jpeg[..2].to_vec();
    photo.extend_from_slice(&[0xFF, 0xE1]);
    photo.extend_from_slice(&u16::try_from(exif.len() + 2).expect("short").to_be_bytes());
    photo.extend_from_slice(&exif);
    photo.extend_from_slice(&jpeg[2..]);
    photo
}

/// EXIF (little-endian TIFF): IFD0 with Make = HUAWEI and a GPS IFD with 27°49'N 113°8'E.
fn gps_exif() -> Vec<u8> {
    fn entry(out: &mut Vec<u8>, tag: u16, kind: u16, count: u32, value: u32) {
        out.extend_from_slice(&tag.to_le_bytes());
        out.extend_from_slice(&kind.to_le_bytes());
        out.extend_from_slice(&count.to_le_bytes());
        out.extend_from_slice(&value.to_le_bytes());
    }
    const ASCII: u16 = 2;
    const LONG: u16 = 4;
    const RATIONAL: u16 = 5;
    // Offsets from the TIFF header: IFD0 at 8 (2 entries: 30 bytes), "HUAWEI\0" at 38, the GPS
    // IFD at 46 (4 entries: 54 bytes), the latitude's rationals at 100, the longitude's at 124.
    let mut tiff = b"II*\0\x08\0\0\0".to_vec();
    tiff.extend_from_slice(&2u16.to_le_bytes());
    entry(&mut tiff, 0x010F, ASCII, 7, 38);
    entry(&mut tiff, 0x8825, LONG, 1, 46);
    tiff.extend_from_slice(&0u32.to_le_bytes());
    tiff.extend_from_slice(b"HUAWEI\0\0");
    tiff.extend_from_slice(&4u16.to_le_bytes());
    entry(&mut tiff, 0x0001, ASCII, 2, u32::from_le_bytes(*b"N\0\0\0"));
    entry(&mut tiff, 0x0002, RATIONAL, 3, 100);
    entry(&mut tiff, 0x0003, ASCII, 2, u32::from_le_bytes(*b"E\0\0\0"));
    entry(&mut tiff, 0x0004, RATIONAL, 3, 124);
    tiff.extend_from_slice(&0u32.to_le_bytes());
    for (numerator, denominator) in [(27u32, 1u32), (49, 1), (3012, 100), (113, 1), (8, 1), (1544, 100)] {
        tiff.extend_from_slice(&numerator.to_le_bytes());
        tiff.extend_from_slice(&denominator.to_le_bytes());
    }
    assert_eq!(tiff.len(), 148);
    let mut exif = b"Exif\0\0".to_vec();
    exif.extend_from_slice(&tiff);
    exif
}

fn png(width: u32, height: u32) -> Vec<u8> {
    let mut bytes = Vec::new();
    DynamicImage::ImageRgb8(RgbImage::new(width, height))
        .write_to(&mut Cursor::new(&mut bytes), ImageFormat::Png)
        .expect("png");
    bytes
}

const PDF: &[u8] = b"%PDF-1.4\n1 0 obj << /Type /Catalog >> endobj\ntrailer << /Root 1 0 R >>\n%%EOF\n";

/// The EXIF fields a JPEG carries, read as a viewer would (none when it has no EXIF).
fn exif_fields(jpeg: &[u8]) -> Vec<exif::Tag> {
    exif::Reader::new()
        .read_from_container(&mut Cursor::new(jpeg))
        .map(|exif| exif.fields().map(|f| f.tag).collect())
        .unwrap_or_default()
}

pub async fn upload(app: &TestApp, token: &str, name: &str, bytes: Vec<u8>, key: Option<&str>) -> Reply {
    let part = reqwest::multipart::Part::bytes(bytes).file_name(name.to_owned());
    let form = reqwest::multipart::Form::new().part("file", part);
    let mut request = app
        .client
        .post(app.url("/api/v1/attachments"))
        .bearer_auth(token)
        .multipart(form);
    if let Some(key) = key {
        request = request.header("Idempotency-Key", key);
    }
    app.send(request).await
}

async fn uploaded(app: &TestApp, token: &str, name: &str, bytes: Vec<u8>) -> String {
    let reply = upload(app, token, name, bytes, None).await;
    assert_eq!(reply.status, 201, "{}", reply.text);
    assert_eq!(
        schema_disagreements("Attachment", &reply.body),
        Vec::<String>::new()
    );
    reply.body["id"].as_str().expect("id").to_owned()
}

async fn attach(app: &TestApp, token: &str, path: &str, ids: &[&str]) -> Reply {
    app.post(path, Some(token), json!({ "attachment_ids": ids }))
        .await
}

/// Files kept in the test's object store.
fn stored_files(app: &TestApp) -> usize {
    fn walk(dir: &std::path::Path) -> usize {
        std::fs::read_dir(dir)
            .map(|entries| {
                entries
                    .flatten()
                    .map(|e| if e.path().is_dir() { walk(&e.path()) } else { 1 })
                    .sum()
            })
            .unwrap_or(0)
    }
    walk(&app.objects_dir)
}

#[tokio::test]
async fn a_phone_photo_loses_its_location_and_camera_and_is_read_only_in_the_problems_scope() {
    let app = spawn_app().await;
    app.seed_demo();
    let problem = file(&app, "厂区变压器老化，需要增容").await;
    let zhang = app.token("officer.zhang").await;
    let sent = phone_photo(800, 600);
    let fields = exif_fields(&sent);
    assert!(fields.contains(&exif::Tag::GPSLatitude) && fields.contains(&exif::Tag::Make));

    let reply = upload(&app, &zhang, "wxfile://tmp/变压器.jpeg", sent, None).await;
    assert_eq!(reply.status, 201, "{}", reply.text);
    let photo = reply.body.clone();
    assert_eq!(schema_disagreements("Attachment", &photo), Vec::<String>::new());
    assert_eq!(
        (
            photo["media_type"].as_str(),
            photo["file_name"].as_str(),
            photo["width"].as_i64(),
            photo["height"].as_i64()
        ),
        (Some("image/jpeg"), Some("变压器.jpg"), Some(800), Some(600))
    );
    assert_eq!(photo["attached_at"], Value::Null);
    let id = photo["id"].as_str().expect("id");
    let url = format!("/api/v1/attachments/{id}");

    // The kept file has no EXIF at all (no GPS, no make), and is what its hash says.
    let (status, kept, headers) = app.bytes(&url, &zhang).await;
    assert_eq!(status, 200);
    assert_eq!(exif_fields(&kept), Vec::<exif::Tag>::new());
    assert!(!kept.windows(6).any(|w| w == b"Exif\0\0") && !kept.windows(6).any(|w| w == b"HUAWEI"));
    assert_eq!(
        hex::encode(Sha256::digest(&kept)),
        photo["sha256"].as_str().expect("hash")
    );
    assert_eq!(kept.len() as i64, photo["byte_size"].as_i64().expect("size"));
    assert_eq!(headers["content-type"], "image/jpeg");
    assert!(headers["content-disposition"]
        .to_str()
        .expect("ascii")
        .contains("%E5%8F%98%E5%8E%8B%E5%99%A8.jpg"));
    let decoded = image::load_from_memory(&kept).expect("a photo");
    assert_eq!((decoded.width(), decoded.height()), (800, 600));
    // Unchanged since: 304.
    let etag = headers["etag"].to_str().expect("etag").to_owned();
    let again = app
        .client
        .get(app.url(&url))
        .bearer_auth(&zhang)
        .header("If-None-Match", &etag)
        .send()
        .await
        .expect("sent");
    assert_eq!(again.status().as_u16(), 304);
    let (status, thumbnail, _) = app.bytes(&format!("{url}/thumbnail"), &zhang).await;
    assert_eq!(status, 200);
    let thumbnail = image::load_from_memory(&thumbnail).expect("a thumbnail");
    assert_eq!((thumbnail.width(), thumbnail.height()), (320, 240));

    // Not attached yet: only its uploader reads it.
    let dispatcher = app.token("hub.dispatcher").await;
    assert_eq!(app.get(&url, Some(&dispatcher)).await.status, 404);

    let path = format!("/api/v1/problems/{problem}/attachments");
    let attached = attach(&app, &zhang, &path, &[id]).await;
    assert_eq!(attached.status, 200, "{}", attached.text);
    assert_eq!(
        disagreements("/api/v1/problems/{id}/attachments", &attached.body),
        Vec::<String>::new()
    );
    let item = &attached.body["items"][0];
    assert_eq!(
        (
            item["attached_role"].as_str(),
            item["uploaded_by_name"].as_str().is_some()
        ),
        (Some("officer"), true)
    );
    // A resend attaches nothing twice.
    let resent = attach(&app, &zhang, &path, &[id]).await;
    assert_eq!(
        (resent.status, resent.body["items"].as_array().map(Vec::len)),
        (200, Some(1))
    );

    // Attached: the problem's readers read it; another enterprise's officer and contact do not.
    assert_eq!(app.bytes(&url, &dispatcher).await.0, 200);
    assert_eq!(app.get(&path, Some(&dispatcher)).await.status, 200);
    for outsider in ["officer.li", "qianjin.contact"] {
        let token = app.token(outsider).await;
        assert_eq!(app.get(&url, Some(&token)).await.status, 404, "{outsider}");
        assert_eq!(
            app.get(&format!("{url}/thumbnail"), Some(&token)).await.status,
            404,
            "{outsider}"
        );
        assert_eq!(app.get(&path, Some(&token)).await.status, 404, "{outsider}");
        // Nor attach their own upload to it.
        let own = uploaded(&app, &token, "a.pdf", PDF.to_vec()).await;
        let refused = attach(&app, &token, &path, &[&own]).await;
        assert_eq!((refused.status, refused.code()), (404, "not_found"), "{outsider}");
    }
    // Nobody attaches an upload that is not theirs, or one attached elsewhere.
    let li = app.token("officer.li").await;
    let (_, qianjin) = app.officer_at("株洲千金药业股份有限公司").await;
    let theirs = app
        .post(
            "/api/v1/problems",
            Some(&li),
            json!({"enterprise_id": qianjin, "description": "仓库消防通道被占"}),
        )
        .await;
    assert_eq!(theirs.status, 201, "{}", theirs.text);
    let their_path = format!(
        "/api/v1/problems/{}/attachments",
        theirs.body["id"].as_str().expect("id")
    );
    let stolen = attach(&app, &li, &their_path, &[id]).await;
    assert_eq!((stolen.status, stolen.code()), (422, "attachment.unavailable"));
    assert_eq!(stolen.body["error"]["details"]["ids"], json!([id]));
    let elsewhere = attach(&app, &zhang, &their_path, &[id]).await;
    assert_eq!(elsewhere.status, 404, "zhang does not read 千金's problem");
    // 千金's contact adds a photo to their own enterprise's problem, as the enterprise.
    let contact = app.token("qianjin.contact").await;
    let own = uploaded(&app, &contact, "通道.png", png(40, 30)).await;
    let added = attach(&app, &contact, &their_path, &[&own]).await;
    assert_eq!(added.status, 200, "{}", added.text);
    let roles: Vec<&str> = added.body["items"]
        .as_array()
        .expect("items")
        .iter()
        .filter_map(|i| i["attached_role"].as_str())
        .collect();
    assert_eq!(roles, ["enterprise"]);
    assert_eq!(
        app.bytes(&format!("/api/v1/attachments/{own}"), &li).await.0,
        200,
        "the officer reads it"
    );
}

#[tokio::test]
async fn bad_files_are_refused_with_clear_errors_and_nothing_is_kept() {
    let app = spawn_app().await;
    app.seed_demo();
    let zhang = app.token("officer.zhang").await;

    let named_pdf = upload(&app, &zhang, "批复.pdf", png(20, 20), None).await;
    assert_eq!(
        (named_pdf.status, named_pdf.code()),
        (422, "attachment.type_mismatch")
    );
    assert_eq!(
        named_pdf.body["error"]["details"],
        json!({"named": "application/pdf", "content": "image/png"})
    );

    let heic = upload(
        &app,
        &zhang,
        "IMG_0001.HEIC",
        b"\0\0\0\x18ftypheic\0\0\0\0mif1heic....".to_vec(),
        None,
    )
    .await;
    assert_eq!((heic.status, heic.code()), (415, "attachment.unsupported_type"));
    assert_eq!(heic.body["error"]["details"]["found"], "HEIC 图片");

    let photo = phone_photo(64, 64);
    let truncated = upload(&app, &zhang, "a.jpg", photo[..photo.len() / 2].to_vec(), None).await;
    assert_eq!(
        (truncated.status, truncated.code()),
        (422, "attachment.unreadable")
    );
    let empty = upload(&app, &zhang, "a.jpg", Vec::new(), None).await;
    assert_eq!((empty.status, empty.code()), (422, "attachment.unreadable"));

    // 50 MB: cut off at 10 MiB.
    let mut huge = PDF.to_vec();
    huge.resize(50 * 1024 * 1024, b' ');
    let too_large = upload(&app, &zhang, "扫描件.pdf", huge, None).await;
    assert_eq!(
        (too_large.status, too_large.code()),
        (413, "attachment.too_large")
    );
    assert_eq!(too_large.body["error"]["details"]["max_bytes"], 10 * 1024 * 1024);

    let not_a_form = app
        .post("/api/v1/attachments", Some(&zhang), json!({"file": "x"}))
        .await;
    assert_eq!(
        (not_a_form.status, not_a_form.code()),
        (415, "request.unsupported_media_type")
    );
    let no_file = app
        .send(
            app.client
                .post(app.url("/api/v1/attachments"))
                .bearer_auth(&zhang)
                .multipart(reqwest::multipart::Form::new().text("name", "a.jpg")),
        )
        .await;
    assert_eq!((no_file.status, no_file.code()), (422, "attachment.unreadable"));
    let anonymous = upload(&app, "not-a-token", "a.pdf", PDF.to_vec(), None).await;
    assert_eq!(anonymous.status, 401);

    assert_eq!(app.count("SELECT count(*) AS n FROM attachments"), 0);
    assert_eq!(stored_files(&app), 0);
}

#[tokio::test]
async fn attaching_is_all_or_nothing_within_the_limits_and_in_the_callers_role() {
    let app = spawn_app().await;
    app.seed_demo();
    let problem = assigned(&app, "供电线路需要改造").await;
    let zhang = app.token("officer.zhang").await;
    let path = format!("/api/v1/problems/{problem}/attachments");

    // 30 uploads held unattached; the 31st waits.
    let mut ids = Vec::new();
    for n in 0..30 {
        ids.push(uploaded(&app, &zhang, &format!("{n}.pdf"), PDF.to_vec()).await);
    }
    let held = upload(&app, &zhang, "31.pdf", PDF.to_vec(), None).await;
    assert_eq!((held.status, held.code()), (422, "attachment.too_many_pending"));

    let ten: Vec<&str> = ids[..10].iter().map(String::as_str).collect();
    let too_many = attach(&app, &zhang, &path, &ten).await;
    assert_eq!((too_many.status, too_many.code()), (422, "validation.failed"));
    let twice = attach(&app, &zhang, &path, &[&ids[0], &ids[0]]).await;
    assert_eq!((twice.status, twice.code()), (422, "validation.failed"));
    let none = attach(&app, &zhang, &path, &[]).await;
    assert_eq!((none.status, none.code()), (422, "validation.failed"));

    // One bad id refuses the request: nothing of it is attached.
    let unknown = uuid::Uuid::new_v4().to_string();
    let mixed = attach(&app, &zhang, &path, &[&ids[0], &unknown]).await;
    assert_eq!((mixed.status, mixed.code()), (422, "attachment.unavailable"));
    assert_eq!(
        app.count("SELECT count(*) AS n FROM attachments WHERE attached_at IS NOT NULL"),
        0
    );

    // 20 at most on a problem: 9 + 9, then 3 more is refused whole.
    for chunk in [&ids[0..9], &ids[9..18]] {
        let chunk: Vec<&str> = chunk.iter().map(String::as_str).collect();
        assert_eq!(attach(&app, &zhang, &path, &chunk).await.status, 200);
    }
    let three: Vec<&str> = ids[18..21].iter().map(String::as_str).collect();
    let over = attach(&app, &zhang, &path, &three).await;
    assert_eq!((over.status, over.code()), (422, "attachment.too_many"));
    assert_eq!(over.body["error"]["details"], json!({"max": 20, "attached": 18}));
    // Room again for uploads once some are attached.
    assert_eq!(
        upload(&app, &zhang, "31.pdf", PDF.to_vec(), None).await.status,
        201
    );

    // The department attaches its response's documents as the department; a clerk of another
    // department reads nothing.
    let clerk = app.token("gdgs.clerk").await;
    let letter = uploaded(&app, &clerk, "答复函.pdf", PDF.to_vec()).await;
    let answered = attach(&app, &clerk, &path, &[&letter]).await;
    assert_eq!(answered.status, 200, "{}", answered.text);
    let items = answered.body["items"].as_array().expect("items");
    let role_of = |id: &str| {
        items
            .iter()
            .find(|i| i["id"] == id)
            .map(|i| i["attached_role"].clone())
    };
    assert_eq!(items.len(), 19);
    assert_eq!(
        (role_of(&letter), role_of(&ids[0])),
        (Some(json!("department")), Some(json!("officer")))
    );
    let other = app.token("rsj.clerk").await;
    assert_eq!(
        app.get(&format!("/api/v1/attachments/{letter}"), Some(&other))
            .await
            .status,
        404
    );
    // The unit admin of zhang's unit (财政局) reads the problem but acts on it in no role.
    let unit_admin = app.token("czj.admin").await;
    let own = uploaded(&app, &unit_admin, "a.pdf", PDF.to_vec()).await;
    assert_eq!(app.get(&path, Some(&unit_admin)).await.status, 200);
    let refused = attach(&app, &unit_admin, &path, &[&own]).await;
    assert_eq!((refused.status, refused.code()), (403, "problem.not_allowed"));

    // A closed problem takes nothing more.
    app.exec(&format!(
        "UPDATE problems SET status = 'closed', closed_at = now() WHERE id = '{problem}'"
    ));
    let dispatcher = app.token("hub.dispatcher").await;
    let note = uploaded(&app, &dispatcher, "会议纪要.pdf", PDF.to_vec()).await;
    let closed = attach(&app, &dispatcher, &path, &[&note]).await;
    assert_eq!((closed.status, closed.code()), (422, "attachment.target_closed"));
}

#[tokio::test]
async fn an_officer_attaches_photos_to_their_own_report_while_it_is_open() {
    let app = spawn_app().await;
    app.seed_demo();
    let (zhang, crrc) = app.officer_at("中车株洲电力机车有限公司").await;
    let report_path = format!("/api/v1/daily-reports/{crrc}/2026-11-20");
    let path = format!("{report_path}/attachments");
    let photo = uploaded(&app, &zhang, "车间.jpg", phone_photo(400, 300)).await;
    // No report yet: nothing to attach to.
    assert_eq!(attach(&app, &zhang, &path, &[&photo]).await.status, 404);
    let filed = app
        .put(
            &report_path,
            Some(&zhang),
            json!({"work_done": "走访车间", "production": {"status": "normal", "capacity_pct": 95,
                   "staff_on_duty": 1200, "staff_total": 1300, "staff_shortage": 10}}),
        )
        .await;
    assert!(filed.status == 201, "{}", filed.text);
    let attached = attach(&app, &zhang, &path, &[&photo]).await;
    assert_eq!(attached.status, 200, "{}", attached.text);
    assert_eq!(attached.body["items"][0]["attached_role"], "officer");

    // Read with the report: its author and the hub; not another enterprise's officer.
    let dispatcher = app.token("hub.dispatcher").await;
    let listed = app.get(&path, Some(&dispatcher)).await;
    assert_eq!(
        (listed.status, listed.body["items"].as_array().map(Vec::len)),
        (200, Some(1))
    );
    assert_eq!(
        app.bytes(&format!("/api/v1/attachments/{photo}"), &dispatcher)
            .await
            .0,
        200
    );
    let li = app.token("officer.li").await;
    assert_eq!(app.get(&path, Some(&li)).await.status, 404);
    assert_eq!(
        app.get(&format!("/api/v1/attachments/{photo}"), Some(&li))
            .await
            .status,
        404
    );
    let their = uploaded(&app, &li, "a.jpg", phone_photo(40, 30)).await;
    assert_eq!(
        attach(&app, &li, &path, &[&their]).await.status,
        404,
        "not li's report"
    );

    // After 10:00 the next day the report is closed, and so are its attachments.
    let late = uploaded(&app, &zhang, "补充.jpg", phone_photo(40, 30)).await;
    app.clock
        .set(app.clock.now() + chrono::Duration::hours(24) + chrono::Duration::minutes(1));
    let zhang = app.token("officer.zhang").await;
    let closed = attach(&app, &zhang, &path, &[&late]).await;
    assert_eq!((closed.status, closed.code()), (422, "attachment.target_closed"));
}

#[tokio::test]
async fn a_keyed_upload_is_kept_once_and_unattached_uploads_go_after_a_day() {
    let app = spawn_app().await;
    app.seed_demo();
    let problem = file(&app, "道路被施工围挡").await;
    let zhang = app.token("officer.zhang").await;
    let first = upload(&app, &zhang, "路口.jpg", phone_photo(64, 48), Some("photo-1")).await;
    let again = upload(&app, &zhang, "路口.jpg", phone_photo(64, 48), Some("photo-1")).await;
    assert_eq!((first.status, again.status), (201, 201));
    assert_eq!(first.body["id"], again.body["id"]);
    assert_eq!(again.headers["idempotent-replayed"], "true");
    assert_eq!(app.count("SELECT count(*) AS n FROM attachments"), 1);
    assert_eq!(stored_files(&app), 2, "the photo and its thumbnail");

    let kept = first.body["id"].as_str().expect("id").to_owned();
    let path = format!("/api/v1/problems/{problem}/attachments");
    let body = json!({ "attachment_ids": [&kept] });
    let attached = app
        .keyed(reqwest::Method::POST, &path, &zhang, "attach-1", &body)
        .await;
    assert_eq!(attached.status, 200, "{}", attached.text);
    let replayed = app
        .keyed(reqwest::Method::POST, &path, &zhang, "attach-1", &body)
        .await;
    assert_eq!(
        (replayed.status, replayed.body.clone()),
        (200, attached.body.clone())
    );
    // A key already used for another operation names no upload.
    let reused = upload(&app, &zhang, "路口.jpg", phone_photo(64, 48), Some("attach-1")).await;
    assert_eq!((reused.status, reused.code()), (422, "idempotency.key_reused"));
    let forgotten = uploaded(&app, &zhang, "废片.jpg", phone_photo(64, 48)).await;
    let forgotten_pdf = uploaded(&app, &zhang, "草稿.pdf", PDF.to_vec()).await;
    assert_eq!(stored_files(&app), 5);

    // Within the day nothing goes; after it the unattached uploads and their files do.
    app.clock.set(app.clock.now() + chrono::Duration::hours(23));
    zhuqi::jobs::prune_attachments::pass(&app.state)
        .await
        .expect("pruned");
    assert_eq!(app.count("SELECT count(*) AS n FROM attachments"), 3);
    app.clock.set(app.clock.now() + chrono::Duration::hours(2));
    zhuqi::jobs::prune_attachments::pass(&app.state)
        .await
        .expect("pruned");
    assert_eq!(app.count("SELECT count(*) AS n FROM attachments"), 1);
    assert_eq!(stored_files(&app), 2);
    let zhang = app.token("officer.zhang").await;
    for gone in [&forgotten, &forgotten_pdf] {
        assert_eq!(
            app.get(&format!("/api/v1/attachments/{gone}"), Some(&zhang))
                .await
                .status,
            404
        );
    }
    assert_eq!(
        app.bytes(&format!("/api/v1/attachments/{kept}"), &zhang).await.0,
        200
    );
}

#[tokio::test]
async fn a_store_that_fails_is_a_503_and_leaves_no_row() {
    let app = spawn_app().await;
    app.seed_demo();
    let zhang = app.token("officer.zhang").await;
    // The store's directory replaced by a file: every write fails.
    std::fs::remove_dir_all(&app.objects_dir).expect("remove");
    std::fs::write(&app.objects_dir, b"not a directory").expect("file");
    let failed = upload(&app, &zhang, "a.pdf", PDF.to_vec(), None).await;
    assert_eq!((failed.status, failed.code()), (503, "storage.unavailable"));
    assert!(failed.headers.contains_key("retry-after"));
    assert_eq!(app.count("SELECT count(*) AS n FROM attachments"), 0);
    std::fs::remove_file(&app.objects_dir).expect("remove");
}

#[tokio::test]
async fn the_demo_city_has_site_photos_and_a_reply_letter() {
    let app = spawn_app().await;
    app.seed_demo_with(zhuqi::demo::History::Week);
    let kinds = app.text(
        "SELECT string_agg(media_type || ':' || attached_role || ':' || \
                (CASE WHEN problem_id IS NULL THEN 'report' ELSE 'problem' END), ',' \
                ) AS t FROM attachments",
    );
    let mut kinds: Vec<&str> = kinds.split(',').collect();
    kinds.sort_unstable();
    assert_eq!(
        kinds,
        [
            "application/pdf:department:problem",
            "image/jpeg:officer:problem",
            "image/jpeg:officer:problem",
            "image/jpeg:officer:report"
        ]
    );
    assert_eq!(stored_files(&app), 7, "four files and three thumbnails");
    let problem = app.text("SELECT problem_id::text AS t FROM attachments WHERE media_type = 'image/jpeg' AND problem_id IS NOT NULL LIMIT 1");
    let zhang = app.token("officer.zhang").await;
    let listed = app
        .get(&format!("/api/v1/problems/{problem}/attachments"), Some(&zhang))
        .await;
    assert_eq!(listed.status, 200, "{}", listed.text);
    let items = listed.body["items"].as_array().expect("items");
    assert_eq!(items.len(), 2);
    for item in items {
        let (status, bytes, _) = app.bytes(item["url"].as_str().expect("url"), &zhang).await;
        assert_eq!(status, 200);
        assert_eq!(
            hex::encode(Sha256::digest(&bytes)),
            item["sha256"].as_str().expect("hash")
        );
    }
}

/// An S3-compatible server (moto's `moto_server`, which `make test` installs into
/// `.local/venv-s3`; `TEST_MOTO_SERVER` names it), stopped when dropped.
struct S3Server {
    child: std::process::Child,
    base: String,
}

impl S3Server {
    async fn start() -> Self {
        let program =
            std::env::var("TEST_MOTO_SERVER").unwrap_or_else(|_| ".local/venv-s3/bin/moto_server".to_owned());
        let port = std::net::TcpListener::bind("127.0.0.1:0")
            .and_then(|l| l.local_addr())
            .expect("a free port")
            .port();
        let child = std::process::Command::new(&program)
            .args(["-H", "127.0.0.1", "-p", &port.to_string()])
            .stdout(std::process::Stdio::null())
            .stderr(std::process::Stdio::null())
            .spawn()
            .unwrap_or_else(|e| {
                panic!("{program} does not start ({e}): `make test` installs it (make s3-fake)")
            });
        let server = Self {
            child,
            base: format!("http://127.0.0.1:{port}"),
        };
        let client = reqwest::Client::new();
        for _ in 0..100 {
            if client.get(&server.base).send().await.is_ok() {
                return server;
            }
            tokio::time::sleep(std::time::Duration::from_millis(100)).await;
        }
        panic!("{program} did not answer within 10 s");
    }

    /// The keys under `prefix` in `bucket` (ListObjectsV2).
    async fn keys(&self, bucket: &str, prefix: &str) -> Vec<String> {
        let listing = reqwest::get(format!("{}/{bucket}?list-type=2&prefix={prefix}", self.base))
            .await
            .expect("listed")
            .text()
            .await
            .expect("xml");
        listing
            .split("<Key>")
            .skip(1)
            .filter_map(|rest| rest.split_once("</Key>").map(|(key, _)| key.to_owned()))
            .collect()
    }
}

impl Drop for S3Server {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

#[tokio::test]
async fn an_s3_compatible_store_named_by_configuration_keeps_and_serves_the_files() {
    let s3 = S3Server::start().await;
    let created = reqwest::Client::new()
        .put(format!("{}/zhuqi-files", s3.base))
        .send()
        .await
        .expect("bucket");
    assert!(created.status().is_success(), "{}", created.status());
    let app = crate::helpers::spawn_app_with(crate::helpers::Options {
        env: vec![
            ("OBJECT_STORE_URL", "s3://zhuqi-files/city-430200".to_owned()),
            ("AWS_ENDPOINT", s3.base.clone()),
            ("AWS_ALLOW_HTTP", "true".to_owned()),
            ("AWS_REGION", "us-east-1".to_owned()),
            ("AWS_ACCESS_KEY_ID", "zhuqi-test".to_owned()),
            ("AWS_SECRET_ACCESS_KEY", "zhuqi-test-secret".to_owned()),
        ],
        ..Default::default()
    })
    .await;
    app.seed_demo();
    let problem = file(&app, "厂区变压器老化，需要增容").await;
    let zhang = app.token("officer.zhang").await;
    let photo = uploaded(&app, &zhang, "变压器.jpg", phone_photo(320, 240)).await;
    let letter = uploaded(&app, &zhang, "说明.pdf", PDF.to_vec()).await;
    let mut keys = s3.keys("zhuqi-files", "city-430200/").await;
    keys.sort();
    assert_eq!(
        keys.len(),
        3,
        "the photo, its thumbnail and the letter under the prefix: {keys:?}"
    );
    assert!(keys
        .iter()
        .all(|k| k.starts_with("city-430200/attachments/2026/11/")
            || k.starts_with("city-430200/thumbnails/2026/11/")));
    assert_eq!(stored_files(&app), 0, "nothing on the local disk");

    let path = format!("/api/v1/problems/{problem}/attachments");
    assert_eq!(attach(&app, &zhang, &path, &[&photo]).await.status, 200);
    let (status, kept, _) = app.bytes(&format!("/api/v1/attachments/{photo}"), &zhang).await;
    assert_eq!(status, 200);
    assert_eq!(exif_fields(&kept), Vec::<exif::Tag>::new());
    let (status, thumbnail, _) = app
        .bytes(&format!("/api/v1/attachments/{photo}/thumbnail"), &zhang)
        .await;
    assert_eq!(
        (
            status,
            image::load_from_memory(&thumbnail).map(|t| t.width()).ok()
        ),
        (200, Some(320))
    );

    // The letter never attached goes from the bucket too.
    app.clock.set(app.clock.now() + chrono::Duration::hours(25));
    zhuqi::jobs::prune_attachments::pass(&app.state)
        .await
        .expect("pruned");
    assert_eq!(s3.keys("zhuqi-files", "city-430200/").await.len(), 2);
    let zhang = app.token("officer.zhang").await;
    assert_eq!(
        app.get(&format!("/api/v1/attachments/{letter}"), Some(&zhang))
            .await
            .status,
        404
    );
}
