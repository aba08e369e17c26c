//! Photos as they are kept: decoded and encoded again, so nothing of the camera's metadata
//! survives (EXIF with the GPS position, the make and serial, XMP, text chunks — the encoders
//! write none), turned upright as the camera's orientation tag said, no larger than 4096
//! pixels a side, and with a small JPEG thumbnail for lists. CPU work: callers run it on the
//! blocking pool, a few at a time (see `Attachments::prepare`).

use std::io::Cursor;

use image::codecs::jpeg::JpegEncoder;
use image::codecs::png::PngEncoder;
use image::imageops::FilterType;
use image::{DynamicImage, ImageDecoder, ImageFormat, ImageReader, Limits};

use crate::domain::attachment::{MediaType, Refusal};

/// The longest side a kept photo has (a 12-megapixel phone photo is 4032).
const MAX_SIDE: u32 = 4096;
/// The longest side of a thumbnail.
const THUMBNAIL_SIDE: u32 = 320;
/// Decoding limits: a small file that claims a huge picture (a decompression bomb) is refused
/// before its pixels are allocated.
const MAX_DECODED_SIDE: u32 = 16_384;
const MAX_DECODED_BYTES: u64 = 320 * 1024 * 1024;
const JPEG_QUALITY: u8 = 85;
const THUMBNAIL_QUALITY: u8 = 75;

/// A photo ready to store.
#[derive(Debug)]
pub struct Photo {
    pub bytes: Vec<u8>,
    pub thumbnail: Vec<u8>,
    pub width: u32,
    pub height: u32,
}

/// Reads the photo and writes it again without metadata, in its own format.
pub fn clean(media_type: MediaType, bytes: &[u8]) -> Result<Photo, Refusal> {
    let format = match media_type {
        MediaType::Jpeg => ImageFormat::Jpeg,
        MediaType::Png => ImageFormat::Png,
        MediaType::Pdf => return Err(Refusal::Unreadable("PDF 不是图片".to_owned())),
    };
    let unreadable = |e: image::ImageError| Refusal::Unreadable(format!("图片无法读取：{e}"));
    let mut reader = ImageReader::with_format(Cursor::new(bytes), format);
    let mut limits = Limits::default();
    limits.max_image_width = Some(MAX_DECODED_SIDE);
    limits.max_image_height = Some(MAX_DECODED_SIDE);
    limits.max_alloc = Some(MAX_DECODED_BYTES);
    reader.limits(limits);
    let mut decoder = reader.into_decoder().map_err(unreadable)?;
    let orientation = decoder.orientation().map_err(unreadable)?;
    let mut image = DynamicImage::from_decoder(decoder).map_err(unreadable)?;
    image.apply_orientation(orientation);
    if image.width().max(image.height()) > MAX_SIDE {
        image = image.resize(MAX_SIDE, MAX_SIDE, FilterType::Triangle);
    }
    let (width, height) = (image.width(), image.height());
    let bytes = encode(media_type, &image, JPEG_QUALITY).map_err(unreadable)?;
    let thumbnail = encode(
        MediaType::Jpeg,
        &image.thumbnail(THUMBNAIL_SIDE, THUMBNAIL_SIDE),
        THUMBNAIL_QUALITY,
    )
    .map_err(unreadable)?;
    Ok(Photo {
        bytes,
        thumbnail,
        width,
        height,
    })
}

fn encode(media_type: MediaType, image: &DynamicImage, quality: u8) -> image::ImageResult<Vec<u8>> {
    let mut out = Vec::new();
    if media_type == MediaType::Png {
        image.write_with_encoder(PngEncoder::new(&mut out))?;
    } else {
        // JPEG has no alpha: a transparent PNG's thumbnail is flattened, as viewers do.
        let rgb = DynamicImage::ImageRgb8(image.to_rgb8());
        rgb.write_with_encoder(JpegEncoder::new_with_quality(&mut out, quality))?;
    }
    Ok(out)
}

#[cfg(test)]
mod tests {
    use super::*;
    use image::{Rgb, RgbImage};

    fn jpeg(width: u32, height: u32) -> Vec<u8> {
        let picture = RgbImage::from_fn(width, height, |x, y| Rgb([(x % 256) as u8, (y % 256) as u8, 90]));
        encode(MediaType::Jpeg, &DynamicImage::ImageRgb8(picture), 90).unwrap_or_default()
    }

    /// Inserts an APP1 segment right after the JPEG's SOI marker.
    fn with_app1(jpeg: &[u8], payload: &[u8]) -> Vec<u8> {
        let length = u16::try_from(payload.len() + 2).unwrap_or(u16::MAX);
        let mut out = jpeg[..2].to_vec();
        out.extend_from_slice(&[0xFF, 0xE1]);
        out.extend_from_slice(&length.to_be_bytes());
        out.extend_from_slice(payload);
        out.extend_from_slice(&jpeg[2..]);
        out
    }

    /// EXIF with only an orientation tag (little-endian TIFF, one IFD entry).
    fn exif_orientation(value: u16) -> Vec<u8> {
        let mut exif = b"Exif\0\0II*\0\x08\0\0\0".to_vec();
        exif.extend_from_slice(&1u16.to_le_bytes());
        exif.extend_from_slice(&0x0112u16.to_le_bytes());
        exif.extend_from_slice(&3u16.to_le_bytes());
        exif.extend_from_slice(&1u32.to_le_bytes());
        exif.extend_from_slice(&value.to_le_bytes());
        exif.extend_from_slice(&[0, 0]);
        exif.extend_from_slice(&0u32.to_le_bytes());
        exif
    }

    #[test]
    fn a_photo_is_kept_upright_without_its_exif_and_with_a_thumbnail() {
        // Orientation 6: the camera was turned, the picture must be rotated 90° clockwise.
        let sent = with_app1(&jpeg(640, 480), &exif_orientation(6));
        assert!(sent.windows(6).any(|w| w == b"Exif\0\0"));
        let photo = clean(MediaType::Jpeg, &sent).unwrap_or_else(|e| panic!("{e:?}"));
        assert_eq!((photo.width, photo.height), (480, 640));
        assert!(!photo.bytes.windows(4).any(|w| w == b"Exif"));
        let thumbnail = image::load_from_memory(&photo.thumbnail).unwrap_or_else(|e| panic!("{e}"));
        assert_eq!((thumbnail.width(), thumbnail.height()), (240, 320));
    }

    #[test]
    fn a_huge_photo_is_made_smaller_and_a_truncated_one_refused() {
        let photo = clean(MediaType::Jpeg, &jpeg(5000, 1000)).unwrap_or_else(|e| panic!("{e:?}"));
        assert_eq!((photo.width, photo.height), (4096, 819));
        let sent = jpeg(64, 64);
        assert!(matches!(
            clean(MediaType::Jpeg, &sent[..sent.len() / 3]),
            Err(Refusal::Unreadable(_))
        ));
    }

    #[test]
    fn a_png_stays_a_png() {
        let mut sent = Vec::new();
        let picture = DynamicImage::ImageRgba8(image::RgbaImage::new(10, 20));
        picture
            .write_with_encoder(PngEncoder::new(&mut sent))
            .unwrap_or_else(|e| panic!("{e}"));
        let photo = clean(MediaType::Png, &sent).unwrap_or_else(|e| panic!("{e:?}"));
        assert!(photo.bytes.starts_with(b"\x89PNG"));
        assert!(photo.thumbnail.starts_with(&[0xFF, 0xD8, 0xFF]));
        assert_eq!((photo.width, photo.height), (10, 20));
    }
}
