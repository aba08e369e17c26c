//! 附件: the photos and documents an officer, an enterprise or a department adds to a problem
//! or a report. What a file is comes from its first bytes, never from its name; a name that
//! says otherwise is refused, so a PNG called `批复.pdf` is caught at the upload rather than
//! in a clerk's PDF viewer.

use super::vocabulary::vocabulary;

vocabulary! {
    /// What an attachment holds, as its `Content-Type`.
    pub enum MediaType {
        Jpeg = "image/jpeg",
        Png = "image/png",
        Pdf = "application/pdf",
    }
}

impl MediaType {
    /// Photos are written again (no metadata) and get a thumbnail; documents are kept as sent.
    pub fn is_photo(self) -> bool {
        matches!(self, MediaType::Jpeg | MediaType::Png)
    }

    /// The extension a download is named with.
    pub fn extension(self) -> &'static str {
        match self {
            MediaType::Jpeg => "jpg",
            MediaType::Png => "png",
            MediaType::Pdf => "pdf",
        }
    }

    /// How people call it in messages.
    pub fn label(self) -> &'static str {
        match self {
            MediaType::Jpeg => "JPEG 图片",
            MediaType::Png => "PNG 图片",
            MediaType::Pdf => "PDF 文档",
        }
    }
}

/// The largest file one upload may carry (a phone's photo is 2–6 MB, a scanned approval less).
pub const MAX_BYTES: usize = 10 * 1024 * 1024;
/// The most attachments one request may attach (WeChat's `chooseMedia` picks at most 9).
pub const MAX_PER_REQUEST: usize = 9;
/// The most attachments one problem or report may carry, whoever added them.
pub const MAX_PER_TARGET: i64 = 20;
/// The most uploads one user may hold unattached at once: enough for a report's photos taken
/// offline, not enough to use the store as a free disk.
pub const MAX_PENDING: i64 = 30;
/// Uploads never attached are removed after this long (`jobs::prune_attachments`).
pub const UNATTACHED_KEPT: chrono::Duration = chrono::Duration::hours(24);
/// The longest name a download keeps (in characters).
const MAX_NAME_CHARS: usize = 100;

/// Why a file is refused.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Refusal {
    /// No bytes at all.
    Empty,
    /// Not a JPEG, PNG or PDF; `found` names what it is when recognisable (a HEIC photo, a GIF).
    Unsupported { found: Option<&'static str> },
    /// The name says one type and the content is another.
    Mismatch { named: MediaType, content: MediaType },
    /// The first bytes say photo but the photo cannot be read (truncated, corrupt, too many
    /// pixels).
    Unreadable(String),
}

/// The type the first bytes announce, if it is one we keep.
pub fn sniff(bytes: &[u8]) -> Option<MediaType> {
    if bytes.starts_with(&[0xFF, 0xD8, 0xFF]) {
        Some(MediaType::Jpeg)
    } else if bytes.starts_with(b"\x89PNG\r\n\x1a\n") {
        Some(MediaType::Png)
    } else if bytes.starts_with(b"%PDF-") {
        Some(MediaType::Pdf)
    } else {
        None
    }
}

/// What an unsupported file is, for the message: the formats a phone or a desk is likely to
/// send instead.
fn recognise(bytes: &[u8]) -> Option<&'static str> {
    let brand = bytes.get(4..12);
    if matches!(brand, Some(b) if b.starts_with(b"ftyp")) {
        let kind = &bytes[8..12];
        return Some(match kind {
            b"heic" | b"heix" | b"hevc" | b"mif1" | b"msf1" | b"heim" | b"heis" => "HEIC 图片",
            _ => "视频",
        });
    }
    if bytes.starts_with(b"GIF8") {
        Some("GIF 图片")
    } else if bytes.starts_with(b"RIFF") && bytes.get(8..12) == Some(b"WEBP") {
        Some("WebP 图片")
    } else if bytes.starts_with(b"PK\x03\x04") {
        Some("压缩包或 Office 文档")
    } else if bytes.starts_with(b"\xD0\xCF\x11\xE0") {
        Some("旧版 Office 文档")
    } else {
        None
    }
}

/// The type a file name's extension claims, when it names one of ours.
pub fn named(file_name: &str) -> Option<MediaType> {
    let extension = file_name.rsplit_once('.')?.1.to_ascii_lowercase();
    match extension.as_str() {
        "jpg" | "jpeg" | "jpe" => Some(MediaType::Jpeg),
        "png" => Some(MediaType::Png),
        "pdf" => Some(MediaType::Pdf),
        _ => None,
    }
}

/// The file's type from its content, checked against its name. A name with another extension
/// (`IMG_0001.HEIC` that the phone turned into a JPEG, `wxfile://tmp_1a2b`) is no claim.
pub fn classify(file_name: &str, bytes: &[u8]) -> Result<MediaType, Refusal> {
    if bytes.is_empty() {
        return Err(Refusal::Empty);
    }
    let content = sniff(bytes).ok_or_else(|| Refusal::Unsupported {
        found: recognise(bytes),
    })?;
    match named(file_name) {
        Some(named) if named != content => Err(Refusal::Mismatch { named, content }),
        _ => Ok(content),
    }
}

/// The name a download carries: the last component of what the phone sent, without control
/// characters, at most 100 characters, ending in the extension of what it really is.
pub fn download_name(sent: &str, media_type: MediaType) -> String {
    let base = sent
        .rsplit(['/', '\\'])
        .next()
        .unwrap_or_default()
        .chars()
        .filter(|c| !c.is_control() && *c != '"')
        .collect::<String>();
    let stem = match base.rsplit_once('.') {
        Some((stem, _)) => stem,
        None => base.as_str(),
    }
    .trim();
    let stem: String = stem.chars().take(MAX_NAME_CHARS).collect();
    let stem = if stem.is_empty() { "附件" } else { stem.as_str() };
    format!("{stem}.{}", media_type.extension())
}

#[cfg(test)]
mod tests {
    use super::*;

    const JPEG: &[u8] = &[0xFF, 0xD8, 0xFF, 0xE0, 0, 0x10, b'J', b'F', b'I', b'F'];
    const PNG: &[u8] = b"\x89PNG\r\n\x1a\n\0\0\0\rIHDR";

    #[test]
    fn the_content_decides_and_a_contrary_name_is_refused() {
        assert_eq!(classify("site.jpg", JPEG), Ok(MediaType::Jpeg));
        assert_eq!(classify("IMG_0001.HEIC", JPEG), Ok(MediaType::Jpeg));
        assert_eq!(classify("wxfile://tmp_1a2b", PNG), Ok(MediaType::Png));
        assert_eq!(classify("批复.PDF", b"%PDF-1.7\n"), Ok(MediaType::Pdf));
        assert_eq!(
            classify("批复.pdf", PNG),
            Err(Refusal::Mismatch {
                named: MediaType::Pdf,
                content: MediaType::Png
            })
        );
        assert_eq!(
            classify("a.png", JPEG),
            Err(Refusal::Mismatch {
                named: MediaType::Png,
                content: MediaType::Jpeg
            })
        );
    }

    #[test]
    fn what_we_do_not_keep_is_named_when_recognisable() {
        let heic = b"\0\0\0\x18ftypheic\0\0\0\0mif1heic";
        assert_eq!(
            classify("IMG_0001.HEIC", heic),
            Err(Refusal::Unsupported {
                found: Some("HEIC 图片")
            })
        );
        assert_eq!(
            classify("a.gif", b"GIF89a...."),
            Err(Refusal::Unsupported {
                found: Some("GIF 图片")
            })
        );
        assert_eq!(
            classify("a.docx", b"PK\x03\x04...."),
            Err(Refusal::Unsupported {
                found: Some("压缩包或 Office 文档")
            })
        );
        assert_eq!(
            classify("a.txt", b"hello"),
            Err(Refusal::Unsupported { found: None })
        );
        assert_eq!(classify("a.jpg", b""), Err(Refusal::Empty));
    }

    #[test]
    fn download_names_are_the_last_component_with_the_true_extension() {
        assert_eq!(
            download_name("wxfile://tmp/变压器.jpeg", MediaType::Jpeg),
            "变压器.jpg"
        );
        assert_eq!(
            download_name("C:\\扫描\\批复\"1\".pdf", MediaType::Pdf),
            "批复1.pdf"
        );
        assert_eq!(download_name("", MediaType::Png), "附件.png");
        assert_eq!(download_name("IMG_0001.HEIC", MediaType::Jpeg), "IMG_0001.jpg");
        assert_eq!(
            download_name(&"长".repeat(300), MediaType::Pdf).chars().count(),
            104
        );
    }
}
