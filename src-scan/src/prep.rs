//! Preprocessing stages: resampling, contrast stretch, thresholds, inversion. Pure functions of a
//! frame.

use crate::GrayImage;

/// The rectangle [x0, x1) × [y0, y1) of `img`, clamped to it.
pub fn crop(img: &GrayImage, x0: usize, y0: usize, x1: usize, y1: usize) -> GrayImage {
    let (x1, y1) = (x1.min(img.width), y1.min(img.height));
    let (x0, y0) = (x0.min(x1), y0.min(y1));
    let (w, h) = (x1 - x0, y1 - y0);
    let mut data = Vec::with_capacity(w * h);
    for y in y0..y1 {
        data.extend_from_slice(&img.data[y * img.width + x0..y * img.width + x1]);
    }
    GrayImage {
        width: w,
        height: h,
        data,
    }
}

/// Halves both sides with a 2×2 box filter.
pub fn downscale2(img: &GrayImage) -> GrayImage {
    let (w, h) = (img.width / 2, img.height / 2);
    let mut data = Vec::with_capacity(w * h);
    for y in 0..h {
        let r0 = &img.data[2 * y * img.width..];
        let r1 = &img.data[(2 * y + 1) * img.width..];
        for x in 0..w {
            let s = u32::from(r0[2 * x])
                + u32::from(r0[2 * x + 1])
                + u32::from(r1[2 * x])
                + u32::from(r1[2 * x + 1]);
            data.push(((s + 2) / 4) as u8);
        }
    }
    GrayImage {
        width: w,
        height: h,
        data,
    }
}

/// Scales both sides by `k` (≥ 2) with bilinear interpolation, so small codes get several pixels
/// per module and smooth edges for the threshold.
pub fn upscale(img: &GrayImage, k: usize) -> GrayImage {
    let k = k.max(2);
    let (w, h) = (img.width * k, img.height * k);
    let (sw, sh) = (img.width as i64, img.height as i64);
    let mut data = Vec::with_capacity(w * h);
    let kk = k as i64;
    for y in 0..h as i64 {
        // Source coordinate in 1/k units, centred on pixel centres.
        let fy = (2 * y + 1 - kk).max(0);
        let (y0, ty) = ((fy / (2 * kk)).min(sh - 1), fy % (2 * kk));
        let y1 = (y0 + 1).min(sh - 1);
        for x in 0..w as i64 {
            let fx = (2 * x + 1 - kk).max(0);
            let (x0, tx) = ((fx / (2 * kk)).min(sw - 1), fx % (2 * kk));
            let x1 = (x0 + 1).min(sw - 1);
            let p = |xx: i64, yy: i64| i64::from(img.data[(yy * sw + xx) as usize]);
            let d = 2 * kk;
            let top = p(x0, y0) * (d - tx) + p(x1, y0) * tx;
            let bot = p(x0, y1) * (d - tx) + p(x1, y1) * tx;
            data.push(((top * (d - ty) + bot * ty + d * d / 2) / (d * d)) as u8);
        }
    }
    GrayImage {
        width: w,
        height: h,
        data,
    }
}

/// The mean of each pixel's 3×3 neighbourhood (edges use the pixels inside the frame).
pub fn smooth3(img: &GrayImage) -> GrayImage {
    let (w, h) = (img.width, img.height);
    // Horizontal sums of three, then vertical.
    let mut rows = vec![0u16; w * h];
    for y in 0..h {
        let r = &img.data[y * w..(y + 1) * w];
        for x in 0..w {
            let a = if x > 0 { r[x - 1] } else { r[x] };
            let c = if x + 1 < w { r[x + 1] } else { r[x] };
            rows[y * w + x] = u16::from(a) + u16::from(r[x]) + u16::from(c);
        }
    }
    let mut data = vec![0u8; w * h];
    for y in 0..h {
        let up = if y > 0 { y - 1 } else { y };
        let down = if y + 1 < h { y + 1 } else { y };
        for x in 0..w {
            let s = u32::from(rows[up * w + x])
                + u32::from(rows[y * w + x])
                + u32::from(rows[down * w + x]);
            data[y * w + x] = ((s + 4) / 9) as u8;
        }
    }
    GrayImage {
        width: w,
        height: h,
        data,
    }
}

/// Stretches the histogram so the `clip` fraction darkest pixels become 0 and the brightest 255.
pub fn stretch(img: &GrayImage, clip: f32) -> GrayImage {
    let hist = histogram(img);
    let n = img.data.len() as f32;
    let cut = (n * clip) as u32;
    let mut acc = 0u32;
    let lo = (0..256).find(|&i| {
        acc += hist[i];
        acc > cut
    });
    acc = 0;
    let hi = (0..256).rev().find(|&i| {
        acc += hist[i];
        acc > cut
    });
    let (lo, hi) = (lo.unwrap_or(0) as i32, hi.unwrap_or(255) as i32);
    if hi - lo < 2 {
        return img.clone();
    }
    let data = img
        .data
        .iter()
        .map(|&p| ((i32::from(p) - lo) * 255 / (hi - lo)).clamp(0, 255) as u8)
        .collect();
    GrayImage {
        width: img.width,
        height: img.height,
        data,
    }
}

/// Light ⇄ dark.
pub fn invert(img: &GrayImage) -> GrayImage {
    GrayImage {
        width: img.width,
        height: img.height,
        data: img.data.iter().map(|&p| 255 - p).collect(),
    }
}

fn histogram(img: &GrayImage) -> [u32; 256] {
    let mut h = [0u32; 256];
    for &p in &img.data {
        h[p as usize] += 1;
    }
    h
}

/// Otsu's threshold: pixels `<=` it are dark.
pub fn otsu(img: &GrayImage) -> u8 {
    let hist = histogram(img);
    let total = img.data.len() as f64;
    let sum: f64 = hist
        .iter()
        .enumerate()
        .map(|(i, &c)| i as f64 * f64::from(c))
        .sum();
    let (mut sum_b, mut w_b, mut best, mut best_t) = (0.0, 0.0, -1.0, 127u8);
    for (t, &c) in hist.iter().enumerate() {
        w_b += f64::from(c);
        if w_b == 0.0 {
            continue;
        }
        let w_f = total - w_b;
        if w_f == 0.0 {
            break;
        }
        sum_b += t as f64 * f64::from(c);
        let m_b = sum_b / w_b;
        let m_f = (sum - sum_b) / w_f;
        let between = w_b * w_f * (m_b - m_f) * (m_b - m_f);
        if between > best {
            best = between;
            best_t = t as u8;
        }
    }
    best_t
}

/// Local-mean threshold: a pixel is dark when it is more than `bias` below the mean of the
/// `(2r+1)²` window around it (integral image, O(1) per pixel).
pub fn local_mean_threshold(img: &GrayImage, r: usize, bias: i64) -> Vec<bool> {
    let (w, h) = (img.width, img.height);
    let stride = w + 1;
    // Wrapping 32-bit sums: a window's sum (at most 255·(2r+1)², far below 2³²) comes out exact
    // from wrapped corner values, and the table is half the size of a 64-bit one.
    let mut integral = vec![0u32; stride * (h + 1)];
    for (y, src) in img.data.chunks_exact(w.max(1)).take(h).enumerate() {
        let (above, below) = integral.split_at_mut((y + 1) * stride);
        let prev = &above[y * stride..];
        let cur = &mut below[..stride];
        let mut row = 0u32;
        for x in 0..w {
            row = row.wrapping_add(u32::from(src[x]));
            cur[x + 1] = prev[x + 1].wrapping_add(row);
        }
    }
    let mut out = vec![false; w * h];
    for y in 0..h {
        let (y0, y1) = (y.saturating_sub(r), (y + r + 1).min(h));
        let top = &integral[y0 * stride..(y0 + 1) * stride];
        let bottom = &integral[y1 * stride..(y1 + 1) * stride];
        let rows = (y1 - y0) as i64;
        let src = &img.data[y * w..(y + 1) * w];
        let dst = &mut out[y * w..(y + 1) * w];
        for x in 0..w {
            let (x0, x1) = (x.saturating_sub(r), (x + r + 1).min(w));
            let s = bottom[x1]
                .wrapping_sub(bottom[x0])
                .wrapping_sub(top[x1])
                .wrapping_add(top[x0]);
            let n = rows * (x1 - x0) as i64;
            dst[x] = i64::from(src[x]) * n < i64::from(s) - bias * n;
        }
    }
    out
}

/// The straightforward 64-bit version of [`local_mean_threshold`], kept as its reference.
#[cfg(test)]
fn local_mean_threshold_reference(img: &GrayImage, r: usize, bias: i64) -> Vec<bool> {
    let (w, h) = (img.width, img.height);
    let mut integral = vec![0u64; (w + 1) * (h + 1)];
    for y in 0..h {
        let mut row = 0u64;
        for x in 0..w {
            row += u64::from(img.data[y * w + x]);
            integral[(y + 1) * (w + 1) + x + 1] = integral[y * (w + 1) + x + 1] + row;
        }
    }
    let mut out = Vec::with_capacity(w * h);
    for y in 0..h {
        let (y0, y1) = (y.saturating_sub(r), (y + r + 1).min(h));
        for x in 0..w {
            let (x0, x1) = (x.saturating_sub(r), (x + r + 1).min(w));
            let s = integral[y1 * (w + 1) + x1] + integral[y0 * (w + 1) + x0]
                - integral[y0 * (w + 1) + x1]
                - integral[y1 * (w + 1) + x0];
            let n = ((y1 - y0) * (x1 - x0)) as i64;
            let p = i64::from(img.data[y * w + x]);
            out.push(p * n < s as i64 - bias * n);
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    fn img(w: usize, h: usize, f: impl Fn(usize, usize) -> u8) -> GrayImage {
        let data = (0..h)
            .flat_map(|y| (0..w).map(move |x| (x, y)))
            .map(|(x, y)| f(x, y))
            .collect();
        GrayImage::new(w, h, data).unwrap()
    }

    #[test]
    fn smooth3_is_the_mean_of_each_3x3_neighbourhood() {
        // One bright pixel in a dark 5x4 frame spreads a ninth of itself around it.
        let src = img(5, 4, |x, y| if (x, y) == (2, 1) { 180 } else { 0 });
        let out = smooth3(&src);
        for y in 0..4usize {
            for x in 0..5usize {
                let near = x.abs_diff(2) <= 1 && y.abs_diff(1) <= 1;
                assert_eq!(out.data[y * 5 + x], if near { 20 } else { 0 }, "({x}, {y})");
            }
        }
        // Edges repeat the border pixel: a flat frame stays flat.
        assert_eq!(smooth3(&img(3, 1, |_, _| 77)).data, vec![77; 3]);
    }

    #[test]
    fn local_mean_threshold_matches_its_reference() {
        // A bright frame large enough that the 32-bit sums wrap (17 million pixels near 250),
        // odd sizes, windows wider than the frame, a single column.
        for (w, h, r, bias) in [
            (4200, 4100, 512, 5),
            (97, 61, 8, 7),
            (5, 3, 9, 3),
            (1, 9, 2, 5),
        ] {
            let i = img(w, h, |x, y| {
                let n = (x as u32).wrapping_mul(2_654_435_761) ^ (y as u32).wrapping_mul(40_503);
                252u8
                    .saturating_add((n >> 30) as u8)
                    .saturating_sub(((x + 3 * y) % 3) as u8)
            });
            if w == 4200 {
                let total: u64 = i.data.iter().map(|&p| u64::from(p)).sum();
                assert!(total > u64::from(u32::MAX), "the big frame must wrap");
            }
            assert_eq!(
                local_mean_threshold(&i, r, bias),
                local_mean_threshold_reference(&i, r, bias),
                "{w}x{h} r {r}"
            );
        }
    }

    #[test]
    fn otsu_splits_two_levels() {
        let i = img(10, 10, |x, _| if x < 5 { 40 } else { 200 });
        let t = otsu(&i);
        assert!((40..200).contains(&t));
    }

    #[test]
    fn stretch_and_invert_and_resample() {
        let i = img(4, 4, |x, _| 100 + x as u8 * 10);
        let s = stretch(&i, 0.0);
        assert_eq!(*s.data.iter().min().unwrap(), 0);
        assert_eq!(*s.data.iter().max().unwrap(), 255);
        assert_eq!(invert(&i).data[0], 155);
        assert_eq!(downscale2(&i).width, 2);
        let u = upscale(&i, 2);
        assert_eq!(u.data.len(), 64);
        assert_eq!(u.data[0], 100);
        assert_eq!(u.data[7], 130);
    }

    #[test]
    fn local_mean_marks_the_dark_spot() {
        let i = img(9, 9, |x, y| if x == 4 && y == 4 { 0 } else { 200 });
        let b = local_mean_threshold(&i, 2, 5);
        assert!(b[4 * 9 + 4]);
        assert_eq!(b.iter().filter(|&&d| d).count(), 1);
    }
}
