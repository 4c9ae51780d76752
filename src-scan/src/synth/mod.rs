//! Synthetic camera frames of a QR code under controlled conditions — rotation, perspective, blur,
//! noise, glare, low contrast, printed-paper texture, screen moiré, inversion — for tests and
//! benchmarks where no camera or photo set covers a condition.
//!
//! Invariants: pure and deterministic: the same text, conditions and seed give the same frame.
//! The returned corners are where the symbol (without quiet zone) lands in the frame.

use qrcode::{Color, EcLevel, QrCode};

use crate::GrayImage;

pub mod sets;

/// A small deterministic generator (xorshift64*).
#[derive(Debug, Clone)]
pub struct Rng(u64);

impl Rng {
    pub fn new(seed: u64) -> Rng {
        Rng(seed.wrapping_mul(0x9E37_79B9_7F4A_7C15) | 1)
    }

    pub fn next_u64(&mut self) -> u64 {
        self.0 ^= self.0 >> 12;
        self.0 ^= self.0 << 25;
        self.0 ^= self.0 >> 27;
        self.0.wrapping_mul(0x2545_F491_4F6C_DD1D)
    }

    /// Uniform in [0, 1).
    pub fn unit(&mut self) -> f32 {
        (self.next_u64() >> 40) as f32 / (1u64 << 24) as f32
    }

    /// Approximately standard normal (sum of four uniforms).
    pub fn gauss(&mut self) -> f32 {
        (self.unit() + self.unit() + self.unit() + self.unit() - 2.0) * 1.732
    }
}

/// How the code appears in the frame.
#[derive(Debug, Clone, PartialEq)]
pub struct Conditions {
    /// In-plane rotation, degrees.
    pub rotation_deg: f32,
    /// Keystone perspective: the far edge is this fraction shorter (0 = frontal).
    pub tilt: f32,
    /// Pixels per module.
    pub module_px: f32,
    /// Box-blur radius in pixels (0 = sharp).
    pub blur: usize,
    /// Sensor noise, standard deviation in gray levels.
    pub noise: f32,
    /// Brightness of a specular highlight over the code (0 = none, 1 = saturating).
    pub glare: f32,
    /// 1 = black on white; 0.25 = faded print or a dim screen.
    pub contrast: f32,
    /// Amplitude of printed-paper texture (crumples, fibres), gray levels.
    pub paper: f32,
    /// Amplitude of screen moiré (a phone screen filmed by a camera), gray levels.
    pub moire: f32,
    /// Light modules on dark.
    pub invert: bool,
    /// Where the code's centre is, in pixels from the frame's centre.
    pub shift: (f32, f32),
    /// Gray level around the code (a dark bag, a light wall).
    pub background: f32,
    /// Amplitude of clutter around the code (blocks and edges at several sizes, like a busy
    /// scene), gray levels.
    pub clutter: f32,
}

impl Default for Conditions {
    fn default() -> Conditions {
        Conditions {
            rotation_deg: 0.0,
            tilt: 0.0,
            module_px: 4.0,
            blur: 0,
            noise: 0.0,
            glare: 0.0,
            contrast: 1.0,
            paper: 0.0,
            moire: 0.0,
            invert: false,
            shift: (0.0, 0.0),
            background: 140.0,
            clutter: 0.0,
        }
    }
}

/// Why a frame could not be drawn.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum SynthError {
    #[error("the text does not fit in a QR code")]
    TooLong,
}

type Mat3 = [[f64; 3]; 3];

/// Homography taking the unit square's corners (0,0),(1,0),(1,1),(0,1) to `q` (Heckbert).
fn square_to_quad(q: [(f64, f64); 4]) -> Mat3 {
    let [(x0, y0), (x1, y1), (x2, y2), (x3, y3)] = q;
    let (dx1, dx2, dx3) = (x1 - x2, x3 - x2, x0 - x1 + x2 - x3);
    let (dy1, dy2, dy3) = (y1 - y2, y3 - y2, y0 - y1 + y2 - y3);
    let den = dx1 * dy2 - dx2 * dy1;
    let g = (dx3 * dy2 - dx2 * dy3) / den;
    let h = (dx1 * dy3 - dx3 * dy1) / den;
    [
        [x1 - x0 + g * x1, x3 - x0 + h * x3, x0],
        [y1 - y0 + g * y1, y3 - y0 + h * y3, y0],
        [g, h, 1.0],
    ]
}

fn invert3(m: &Mat3) -> Mat3 {
    let [[a, b, c], [d, e, f], [g, h, i]] = *m;
    let (ca, cb, cc) = (e * i - f * h, f * g - d * i, d * h - e * g);
    let det = a * ca + b * cb + c * cc;
    let k = 1.0 / det;
    [
        [ca * k, (c * h - b * i) * k, (b * f - c * e) * k],
        [cb * k, (a * i - c * g) * k, (c * d - a * f) * k],
        [cc * k, (b * g - a * h) * k, (a * e - b * d) * k],
    ]
}

fn apply(m: &Mat3, x: f64, y: f64) -> (f64, f64) {
    let w = m[2][0] * x + m[2][1] * y + m[2][2];
    (
        (m[0][0] * x + m[0][1] * y + m[0][2]) / w,
        (m[1][0] * x + m[1][1] * y + m[1][2]) / w,
    )
}

/// Draws `text` as a QR code (level M) centred in a `width`×`height` frame under `c`.
/// Returns the frame and the symbol's corners (top-left, top-right, bottom-right, bottom-left).
pub fn render(
    text: &str,
    width: usize,
    height: usize,
    c: &Conditions,
    seed: u64,
) -> Result<(GrayImage, [(f32, f32); 4]), SynthError> {
    let code =
        QrCode::with_error_correction_level(text, EcLevel::M).map_err(|_| SynthError::TooLong)?;
    Ok(render_code(&code, width, height, c, seed))
}

/// Draws an encoded symbol as [`render`] draws a text's (the sets choose the version).
pub fn render_code(
    code: &QrCode,
    width: usize,
    height: usize,
    c: &Conditions,
    seed: u64,
) -> (GrayImage, [(f32, f32); 4]) {
    let n = code.width();
    let modules: Vec<bool> = code
        .to_colors()
        .into_iter()
        .map(|c| c == Color::Dark)
        .collect();
    let total = (n + 8) as f64; // with quiet zone
    let side = total * f64::from(c.module_px);
    let (cx, cy) = (
        width as f64 / 2.0 + f64::from(c.shift.0),
        height as f64 / 2.0 + f64::from(c.shift.1),
    );
    let th = f64::from(c.rotation_deg).to_radians();
    let tilt = f64::from(c.tilt.clamp(0.0, 0.9));
    // The square, its top edge shortened by the tilt (seen from below), then rotated.
    let half = side / 2.0;
    let local = [
        (-half * (1.0 - tilt), -half * (1.0 - tilt / 2.0)),
        (half * (1.0 - tilt), -half * (1.0 - tilt / 2.0)),
        (half, half),
        (-half, half),
    ];
    let quad = local.map(|(x, y)| {
        (
            cx + x * th.cos() - y * th.sin(),
            cy + x * th.sin() + y * th.cos(),
        )
    });
    let fwd = square_to_quad(quad);
    let inv = invert3(&fwd);
    let mut rng = Rng::new(seed);
    let phases: Vec<f64> = (0..6)
        .map(|_| f64::from(rng.unit()) * std::f64::consts::TAU)
        .collect();
    let glare_at = (
        cx + (f64::from(rng.unit()) - 0.5) * half,
        cy + (f64::from(rng.unit()) - 0.5) * half,
    );
    let (dark, light, background) = (25.0f64, 230.0f64, f64::from(c.background));
    let mut px = vec![0f64; width * height];
    for y in 0..height {
        for x in 0..width {
            let mut acc = 0.0;
            for (sx, sy) in [(0.25, 0.25), (0.75, 0.25), (0.25, 0.75), (0.75, 0.75)] {
                let (u, v) = apply(&inv, x as f64 + sx, y as f64 + sy);
                acc += if (0.0..1.0).contains(&u) && (0.0..1.0).contains(&v) {
                    let (mu, mv) = ((u * total) as isize - 4, (v * total) as isize - 4);
                    let is_dark = mu >= 0
                        && mv >= 0
                        && (mu as usize) < n
                        && (mv as usize) < n
                        && modules[mv as usize * n + mu as usize];
                    if is_dark ^ c.invert {
                        dark
                    } else {
                        light
                    }
                } else {
                    background + clutter(x as f64 + sx, y as f64 + sy, seed, c.clutter)
                };
            }
            let light = Light {
                phases: &phases,
                glare_at,
                glare_radius: half,
            };
            px[y * width + x] = light.apply(acc / 4.0, x as f64, y as f64, c);
        }
    }
    let data = develop(px, width, height, c, &mut rng);
    // Corners of the symbol itself (inside the 4-module quiet zone).
    let q = 4.0 / total;
    let corners = [(q, q), (1.0 - q, q), (1.0 - q, 1.0 - q), (q, 1.0 - q)].map(|(u, v)| {
        let (x, y) = apply(&fwd, u, v);
        (x as f32, y as f32)
    });
    (
        GrayImage {
            width,
            height,
            data,
        },
        corners,
    )
}

/// A busy scene's brightness offset at `(x, y)`: random blocks at three sizes (8, 23 and 61 px
/// cells), so there are edges everywhere, some of them square like a finder pattern's.
fn clutter(x: f64, y: f64, seed: u64, amplitude: f32) -> f64 {
    if amplitude <= 0.0 {
        return 0.0;
    }
    let cell = |size: f64, salt: u64| {
        let (cx, cy) = (
            (x / size).floor() as i64 as u64,
            (y / size).floor() as i64 as u64,
        );
        let mut h = seed
            ^ salt
            ^ cx.wrapping_mul(0x9E37_79B9_7F4A_7C15)
            ^ cy.wrapping_mul(0xC2B2_AE3D_27D4_EB4F);
        h ^= h >> 29;
        h = h.wrapping_mul(0xBF58_476D_1CE4_E5B9);
        h ^= h >> 32;
        (h % 1000) as f64 / 500.0 - 1.0
    };
    f64::from(amplitude) * (0.5 * cell(8.0, 1) + 0.3 * cell(23.0, 2) + 0.4 * cell(61.0, 3))
}

/// What falls on the code besides its print: paper texture, screen moiré, a highlight.
struct Light<'a> {
    phases: &'a [f64],
    glare_at: (f64, f64),
    /// The highlight's size: it covers about half of this radius.
    glare_radius: f64,
}

impl Light<'_> {
    /// A pixel of reflectance `v` at `(fx, fy)` as the camera sees it under `c`.
    fn apply(&self, v: f64, fx: f64, fy: f64, c: &Conditions) -> f64 {
        let phases = self.phases;
        let mut v = 128.0 + (v - 128.0) * f64::from(c.contrast);
        if c.paper > 0.0 {
            v += f64::from(c.paper)
                * ((fx * 0.031 + phases[0]).sin() * (fy * 0.027 + phases[1]).sin()
                    + 0.5 * (fx * 0.13 + fy * 0.07 + phases[2]).sin());
        }
        if c.moire > 0.0 {
            v += f64::from(c.moire)
                * ((fx * 0.93 + fy * 0.11) * std::f64::consts::PI + phases[3]).sin();
        }
        if c.glare > 0.0 {
            let r2 = ((fx - self.glare_at.0).powi(2) + (fy - self.glare_at.1).powi(2))
                / (self.glare_radius * self.glare_radius * 0.25);
            v += f64::from(c.glare) * 255.0 * (-r2).exp();
        }
        v
    }
}

/// The sensor's part: blur, noise, 8-bit levels.
fn develop(px: Vec<f64>, width: usize, height: usize, c: &Conditions, rng: &mut Rng) -> Vec<u8> {
    let px = if c.blur > 0 {
        box_blur(&px, width, height, c.blur)
    } else {
        px
    };
    px.into_iter()
        .map(|v| {
            let v = if c.noise > 0.0 {
                v + f64::from(c.noise * rng.gauss())
            } else {
                v
            };
            v.round().clamp(0.0, 255.0) as u8
        })
        .collect()
}

/// A photograph of a printed page `src` (a poster rendered at some dpi) as a phone takes it:
/// the page scaled by `scale` (frame pixels per page pixel), the point `center` (page pixels)
/// in the middle of a `width`×`height` frame, turned by `c.rotation_deg`, its top edge
/// `c.tilt` shorter (seen from below), under `c`'s light, blur and noise; the frame beyond the
/// page is a mid-gray wall. Module size in `c` is ignored (the page sets it).
pub fn photograph(
    src: &GrayImage,
    center: (f32, f32),
    scale: f32,
    width: usize,
    height: usize,
    c: &Conditions,
    seed: u64,
) -> GrayImage {
    // Shrink the page by halves first, so each frame pixel averages the page under it.
    let (mut page, mut center, mut scale) = (src.clone(), center, scale.max(1e-3));
    while scale <= 0.5 && page.width >= 4 && page.height >= 4 {
        page = crate::prep::downscale2(&page);
        center = (center.0 / 2.0, center.1 / 2.0);
        scale *= 2.0;
    }
    let (pw, ph) = (page.width as f64, page.height as f64);
    let (s, (cx0, cy0)) = (f64::from(scale), (f64::from(center.0), f64::from(center.1)));
    let (cx, cy) = (width as f64 / 2.0, height as f64 / 2.0);
    let th = f64::from(c.rotation_deg).to_radians();
    let tilt = f64::from(c.tilt.clamp(0.0, 0.9));
    let corner = |x: f64, y: f64, top: bool| {
        let (lx, ly) = ((x - cx0) * s, (y - cy0) * s);
        let lx = if top { lx * (1.0 - tilt) } else { lx };
        (
            cx + lx * th.cos() - ly * th.sin(),
            cy + lx * th.sin() + ly * th.cos(),
        )
    };
    let quad = [
        corner(0.0, 0.0, true),
        corner(pw, 0.0, true),
        corner(pw, ph, false),
        corner(0.0, ph, false),
    ];
    let inv = invert3(&square_to_quad(quad));
    let mut rng = Rng::new(seed);
    let phases: Vec<f64> = (0..6)
        .map(|_| f64::from(rng.unit()) * std::f64::consts::TAU)
        .collect();
    let radius = (width.min(height) as f64) / 2.0;
    let light = Light {
        phases: &phases,
        glare_at: (
            cx + (f64::from(rng.unit()) - 0.5) * radius,
            cy + (f64::from(rng.unit()) - 0.5) * radius,
        ),
        glare_radius: radius,
    };
    let sample = |u: f64, v: f64| -> f64 {
        // Bilinear in the page.
        let (x, y) = (u * pw - 0.5, v * ph - 0.5);
        let (x0, y0) = (x.floor().max(0.0), y.floor().max(0.0));
        let (fx, fy) = ((x - x0).clamp(0.0, 1.0), (y - y0).clamp(0.0, 1.0));
        let at = |xx: f64, yy: f64| {
            let (xi, yi) = (
                (xx as usize).min(page.width - 1),
                (yy as usize).min(page.height - 1),
            );
            f64::from(page.data[yi * page.width + xi])
        };
        let top = at(x0, y0) * (1.0 - fx) + at(x0 + 1.0, y0) * fx;
        let bottom = at(x0, y0 + 1.0) * (1.0 - fx) + at(x0 + 1.0, y0 + 1.0) * fx;
        top * (1.0 - fy) + bottom * fy
    };
    let mut px = vec![0f64; width * height];
    for y in 0..height {
        for x in 0..width {
            let mut acc = 0.0;
            for (sx, sy) in [(0.25, 0.25), (0.75, 0.25), (0.25, 0.75), (0.75, 0.75)] {
                let (u, v) = apply(&inv, x as f64 + sx, y as f64 + sy);
                acc += if (0.0..1.0).contains(&u) && (0.0..1.0).contains(&v) && page.width > 0 {
                    // Print is not pure black and white.
                    25.0 + sample(u, v) * (205.0 / 255.0)
                } else {
                    140.0
                };
            }
            px[y * width + x] = light.apply(acc / 4.0, x as f64, y as f64, c);
        }
    }
    GrayImage {
        width,
        height,
        data: develop(px, width, height, c, &mut rng),
    }
}

fn box_blur(px: &[f64], w: usize, h: usize, r: usize) -> Vec<f64> {
    let pass = |src: &[f64], horizontal: bool| -> Vec<f64> {
        let mut out = vec![0.0; src.len()];
        for y in 0..h {
            for x in 0..w {
                let (mut s, mut n) = (0.0, 0.0);
                for d in -(r as isize)..=(r as isize) {
                    let (xx, yy) = if horizontal {
                        (x as isize + d, y as isize)
                    } else {
                        (x as isize, y as isize + d)
                    };
                    if xx >= 0 && yy >= 0 && (xx as usize) < w && (yy as usize) < h {
                        s += src[yy as usize * w + xx as usize];
                        n += 1.0;
                    }
                }
                out[y * w + x] = s / n;
            }
        }
        out
    };
    pass(&pass(px, true), false)
}

#[cfg(test)]
mod tests;
