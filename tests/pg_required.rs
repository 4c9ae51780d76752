//! PostgreSQL is required, not optional: with no PostgreSQL to be found, the tests that need it
//! fail with a message naming it and the way out — unless `VENUECODE_SKIP_POSTGRES=1` asks to skip
//! them on purpose. (A test binary of its own: it changes environment variables.)

use anyhow::{ensure, Result};
use venuecode_server::pgcluster::{start_for_tests, DIR_VAR, SKIP_VAR};

#[test]
fn a_missing_postgresql_fails_unless_skipped_on_purpose() -> Result<()> {
    let empty = tempfile_dir()?;
    std::env::set_var(DIR_VAR, &empty);
    std::env::remove_var(SKIP_VAR);
    let err = match start_for_tests("this check") {
        Err(e) => e.to_string(),
        Ok(_) => anyhow::bail!("no PostgreSQL under an empty directory, yet a cluster started"),
    };
    ensure!(
        err.contains("PostgreSQL") && err.contains(SKIP_VAR) && err.contains("./x setup"),
        "the message must name PostgreSQL, the install and the skip variable: {err}"
    );
    std::env::set_var(SKIP_VAR, "1");
    ensure!(
        start_for_tests("this check")?.is_none(),
        "with the skip variable set, the tests are skipped"
    );
    std::env::remove_var(SKIP_VAR);
    std::env::remove_var(DIR_VAR);
    let _ = std::fs::remove_dir_all(&empty);
    Ok(())
}

fn tempfile_dir() -> Result<std::path::PathBuf> {
    let dir = std::env::temp_dir().join(format!("venuecode-no-pg-{}", std::process::id()));
    std::fs::create_dir_all(&dir)?;
    Ok(dir)
}
