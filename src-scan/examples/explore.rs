//! Exploration (not committed): time rqrr's phases on given photos.
use std::time::Instant;
use venuecode_scan::GrayImage;
fn main() {
    let (mut tp, mut tc, mut td, mut n) = (0.0, 0.0, 0.0, 0);
    for p in std::env::args().skip(1) {
        let img = GrayImage::from_png(&std::fs::read(&p).unwrap()).unwrap();
        let (w, d) = (img.width, &img.data);
        let t = Instant::now();
        let mut pi =
            rqrr::PreparedImage::prepare_from_greyscale(img.width, img.height, |x, y| d[y * w + x]);
        tp += t.elapsed().as_secs_f64();
        let t = Instant::now();
        let grids = pi.detect_grids();
        tc += t.elapsed().as_secs_f64();
        let t = Instant::now();
        for g in &grids {
            let mut b = Vec::new();
            let _ = g.decode_to(&mut b);
        }
        td += t.elapsed().as_secs_f64();
        n += 1;
    }
    println!(
        "per photo: prepare {:.2} ms, detect {:.2} ms, decode {:.2} ms",
        tp * 1e3 / n as f64,
        tc * 1e3 / n as f64,
        td * 1e3 / n as f64
    );
}
