//! `qrbench --pixels`: a camera's 1280×720 frame to grey in each format, and libjpeg-turbo on the
//! same MJPEG bytes for comparison.

use std::process::ExitCode;
use std::time::Instant;

use venuecode_scan::synth::{render, Conditions};
use venuecode_scan::{Config, Scanner};

use crate::percentile;

/// Times `pixels::to_gray` on a 1280×720 frame of a code in each camera format.
pub fn pixels() -> ExitCode {
    use venuecode_scan::pixels::{to_gray, Layout, Range};
    let (w, h) = (1280usize, 720usize);
    let Ok((frame, _)) = render(
        "https://csm.example.cn/1/PIXELS",
        w,
        h,
        // A camera's frame: sensor noise and some glare, so MJPEG has texture to code (a flat
        // synthetic frame would flatter the decoder).
        &Conditions {
            module_px: 6.0,
            noise: 10.0,
            glare: 0.3,
            blur: 1,
            ..Conditions::default()
        },
        3,
    ) else {
        eprintln!("qrbench: the frame did not render");
        return ExitCode::FAILURE;
    };
    let yuyv = |y: &[u8], stride: usize| {
        let mut out = vec![128u8; stride * h];
        for r in 0..h {
            for c in 0..w {
                out[r * stride + 2 * c] = y[r * w + c];
            }
        }
        out
    };
    let limited: Vec<u8> = frame
        .data
        .iter()
        .map(|v| 16 + (u32::from(*v) * 219 / 255) as u8)
        .collect();
    let nv12_stride = 1344;
    let mut nv12 = vec![128u8; nv12_stride * h * 3 / 2];
    for r in 0..h {
        nv12[r * nv12_stride..r * nv12_stride + w].copy_from_slice(&frame.data[r * w..r * w + w]);
    }
    let rgb: Vec<u8> = frame.data.iter().flat_map(|v| [*v, *v, *v]).collect();
    let mut mjpeg = Vec::new();
    if let Err(e) = jpeg_encoder::Encoder::new(&mut mjpeg, 85).encode(
        &rgb,
        w as u16,
        h as u16,
        jpeg_encoder::ColorType::Rgb,
    ) {
        eprintln!("qrbench: {e}");
        return ExitCode::FAILURE;
    }
    let cases: Vec<(&str, Vec<u8>, Layout, Range)> = vec![
        (
            "yuyv",
            yuyv(&frame.data, 2 * w),
            Layout::Yuyv { stride: 2 * w },
            Range::Full,
        ),
        (
            "yuyv-limited",
            yuyv(&limited, 2 * w),
            Layout::Yuyv { stride: 2 * w },
            Range::Limited,
        ),
        (
            "nv12-stride1344",
            nv12,
            Layout::Nv12 {
                stride: nv12_stride,
            },
            Range::Full,
        ),
        (
            "rgb",
            rgb.clone(),
            Layout::Rgb { stride: 3 * w },
            Range::Full,
        ),
        ("mjpeg", mjpeg.clone(), Layout::Mjpeg, Range::Full),
    ];
    let mut scanner = Scanner::new(Config::default());
    for (name, bytes, layout, range) in cases {
        let mut times = Vec::new();
        let mut ok = true;
        for _ in 0..60 {
            let t = Instant::now();
            match to_gray(&bytes, w, h, layout, range) {
                Ok(g) => {
                    times.push(t.elapsed().as_secs_f64() * 1000.0);
                    ok &= g.width == w && g.height == h;
                }
                Err(e) => {
                    eprintln!("{name}: {e}");
                    return ExitCode::FAILURE;
                }
            }
        }
        let g = to_gray(&bytes, w, h, layout, range).ok();
        let read = g.is_some_and(|g| !scanner.scan(&g).is_empty());
        times.sort_by(f64::total_cmp);
        println!(
            "pixels {name:<16} 1280x720 median {:.2} ms p95 {:.2} ms (target 1 ms) code read {read} {}",
            percentile(&times, 0.5),
            percentile(&times, 0.95),
            if ok { "" } else { "SIZE MISMATCH" }
        );
    }
    mjpeg_peer(&mjpeg);
    ExitCode::SUCCESS
}

/// libjpeg-turbo (through Pillow, asked for luma only) on the same MJPEG frame, for comparison:
/// what the entropy decoding of these bytes costs in the fastest common decoder.
fn mjpeg_peer(jpeg: &[u8]) {
    const SCRIPT: &str = r#"
import io, sys, time
from PIL import Image
b = open(sys.argv[1], 'rb').read()
t = []
for _ in range(60):
    s = time.perf_counter()
    i = Image.open(io.BytesIO(b))
    i.draft('L', i.size)
    i.load()
    t.append((time.perf_counter() - s) * 1000)
t.sort()
print('%.2f %.2f %s' % (t[30], t[57], i.mode))
"#;
    let path = std::env::temp_dir().join(format!("qrbench-mjpeg-{}.jpg", std::process::id()));
    let out = std::fs::write(&path, jpeg).ok().and_then(|_| {
        std::process::Command::new("python3")
            .arg("-c")
            .arg(SCRIPT)
            .arg(&path)
            .output()
            .ok()
    });
    let _ = std::fs::remove_file(&path);
    let line = out
        .filter(|o| o.status.success())
        .map(|o| String::from_utf8_lossy(&o.stdout).trim().to_string());
    match line.as_deref().map(|l| l.split(' ').collect::<Vec<_>>()).as_deref() {
        Some([p50, p95, "L"]) => println!(
            "peer   mjpeg (libjpeg-turbo via Pillow, luma only, same {} KB frame) median {p50} ms p95 {p95} ms",
            jpeg.len() / 1024
        ),
        _ => println!("peer   mjpeg: not measured (needs python3 with Pillow)"),
    }
}
