//! Diagnostic: for each photo, how many grids rqrr finds and how each decode fails.
fn main() {
    for p in std::env::args().skip(1) {
        let bytes = std::fs::read(&p).unwrap();
        let img = venuecode_scan::GrayImage::from_png(&bytes).unwrap();
        let (w, d) = (img.width, &img.data);
        let mut prep =
            rqrr::PreparedImage::prepare_from_greyscale(img.width, img.height, |x, y| d[y * w + x]);
        let grids = prep.detect_grids();
        let res: Vec<String> = grids
            .iter()
            .map(|g| match g.decode() {
                Ok((m, _)) => format!("ok v{:?}", m.version),
                Err(e) => format!("{e:?} size {}", rqrr::BitGrid::size(&g.grid)),
            })
            .collect();
        println!("{p}: {} grids {:?}", grids.len(), res);
    }
}
