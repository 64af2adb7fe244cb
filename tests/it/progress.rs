//! The progress file under hostile or busy conditions: many runs at once, planted symlinks,
//! kept permissions, stale temporaries, paths that are not regular files, oversized files.
//! Each drives the real binary, as a student's shell would.

use super::common;
use assert_cmd::Command;
use std::fs;
use std::path::Path;
use std::time::Duration;

/// Every run gets this long before it is killed, so a hang fails the test instead of stalling it.
const HANG: Duration = Duration::from_secs(60);

fn gradtutor(progress: &Path) -> Command {
    let mut c = common::gradtutor_at(progress);
    c.timeout(HANG);
    c
}

/// A quiz on question 9 (two choice items, no experiment to run): quick, and it records.
fn quiz(progress: &Path) -> std::process::Output {
    gradtutor(progress)
        .args(["quiz", "--question", "9", "--answers", "a,a"])
        .output()
        .unwrap()
}

fn quizzes(progress: &Path) -> usize {
    let p: serde_json::Value =
        serde_json::from_str(&fs::read_to_string(progress).unwrap()).unwrap();
    p["quizzes"].as_array().unwrap().len()
}

fn stderr(o: &std::process::Output) -> String {
    String::from_utf8_lossy(&o.stderr).into_owned()
}

/// Without a lock, runs that overlap read the same old file and the last rename wins.
#[test]
fn runs_at_the_same_time_lose_no_record() {
    let dir = tempfile::tempdir().unwrap();
    let progress = dir.path().join("p.json");
    let (procs, runs) = (6, 10);
    std::thread::scope(|s| {
        for _ in 0..procs {
            s.spawn(|| {
                for _ in 0..runs {
                    let o = quiz(&progress);
                    assert!(o.status.success(), "{}", stderr(&o));
                    assert!(o.stderr.is_empty(), "{}", stderr(&o));
                }
            });
        }
    });
    assert_eq!(quizzes(&progress), procs * runs);
}

/// A run that cannot get the lock gives up with a warning; the lesson itself still runs.
#[test]
fn a_lock_held_elsewhere_costs_the_record_not_the_lesson() {
    let dir = tempfile::tempdir().unwrap();
    let progress = dir.path().join("p.json");
    assert!(quiz(&progress).status.success());
    let before = fs::read(&progress).unwrap();
    let lock = fs::File::create(dir.path().join("p.json.lock")).unwrap();
    lock.lock().unwrap();
    // The test hook shortens the 10 s wait; the run still waits it out before giving up.
    let start = std::time::Instant::now();
    let o = gradtutor(&progress)
        .env("GRADTUTOR_LOCK_WAIT_MS", "300")
        .args(["quiz", "--question", "9", "--answers", "a,a"])
        .output()
        .unwrap();
    assert!(start.elapsed() >= Duration::from_millis(300));
    assert!(o.status.success(), "{}", stderr(&o));
    assert!(String::from_utf8_lossy(&o.stdout).contains("Score: "));
    let err = stderr(&o);
    assert!(
        err.contains("another gradtutor has held")
            && err.contains("for 0.3 s; gave up waiting")
            && err.contains("progress was not recorded"),
        "{err}"
    );
    assert_eq!(fs::read(&progress).unwrap(), before);
    drop(lock);
    assert!(quiz(&progress).status.success());
    assert_eq!(quizzes(&progress), 2);
}

/// The old temporary name was `.p.json.tmp-PID`, opened with O_TRUNC: a symlink planted at
/// the next PIDs' names sent the progress into (and truncated) the link's target.
#[cfg(target_os = "linux")]
#[test]
fn a_symlink_planted_at_a_temporary_name_is_never_written_through() {
    let dir = tempfile::tempdir().unwrap();
    let progress = dir.path().join("p.json");
    let victim = dir.path().join("victim.txt");
    fs::write(&victim, "precious\n").unwrap();
    let read = |f: &str| -> u64 { fs::read_to_string(f).unwrap().trim().parse().unwrap() };
    let last = read("/proc/sys/kernel/ns_last_pid");
    let max = read("/proc/sys/kernel/pid_max");
    for pid in (1..=3000).map(|i| (last + i) % max) {
        std::os::unix::fs::symlink(&victim, dir.path().join(format!(".p.json.tmp-{pid}"))).unwrap();
    }
    let o = quiz(&progress);
    assert!(o.status.success(), "{}", stderr(&o));
    assert_eq!(fs::read_to_string(&victim).unwrap(), "precious\n");
    assert!(!fs::symlink_metadata(&progress).unwrap().is_symlink());
    assert_eq!(quizzes(&progress), 1);
}

/// A file the student made private stays private; the old code recreated it as 0644.
#[cfg(unix)]
#[test]
fn saving_keeps_the_files_permissions() {
    use std::os::unix::fs::PermissionsExt;
    for mode in [0o600, 0o640] {
        let dir = tempfile::tempdir().unwrap();
        let progress = dir.path().join("p.json");
        assert!(quiz(&progress).status.success());
        fs::set_permissions(&progress, fs::Permissions::from_mode(mode)).unwrap();
        assert!(quiz(&progress).status.success());
        let now = fs::metadata(&progress).unwrap().permissions().mode() & 0o7777;
        assert_eq!(now, mode, "{now:o} after saving a {mode:o} file");
        assert_eq!(quizzes(&progress), 2);
    }
}

/// A progress file kept elsewhere behind a symlink is written through the link, not replaced
/// by a regular file that cuts the link.
#[cfg(unix)]
#[test]
fn a_symlinked_progress_file_is_written_through_to_its_target() {
    let dir = tempfile::tempdir().unwrap();
    fs::create_dir(dir.path().join("synced")).unwrap();
    let target = dir.path().join("synced/real.json");
    assert!(quiz(&target).status.success());
    let link = dir.path().join("p.json");
    std::os::unix::fs::symlink("synced/real.json", &link).unwrap();
    assert!(quiz(&link).status.success());
    assert!(fs::symlink_metadata(&link).unwrap().is_symlink());
    assert_eq!(quizzes(&target), 2);
    // A link to a file not made yet: the file is made where the link points.
    let dangling = dir.path().join("q.json");
    std::os::unix::fs::symlink("synced/later.json", &dangling).unwrap();
    assert!(quiz(&dangling).status.success());
    assert!(fs::symlink_metadata(&dangling).unwrap().is_symlink());
    assert_eq!(quizzes(&dir.path().join("synced/later.json")), 1);
    // A loop of links is refused, not followed forever.
    let (a, b) = (dir.path().join("a.json"), dir.path().join("b.json"));
    std::os::unix::fs::symlink(&b, &a).unwrap();
    std::os::unix::fs::symlink(&a, &b).unwrap();
    let o = quiz(&a);
    assert!(o.status.success(), "{}", stderr(&o));
    assert!(
        stderr(&o).contains("loop of symbolic links"),
        "{}",
        stderr(&o)
    );
}

/// Temporaries left by killed runs are swept by the next write, which holds the lock, so no
/// writer is at work: young ones too (they piled up for 15 minutes, 44 copies after 200
/// kills). Files that are not ours are left alone.
#[test]
fn stale_temporaries_left_by_killed_runs_are_removed() {
    let dir = tempfile::tempdir().unwrap();
    let progress = dir.path().join("p.json");
    let hour_ago = std::time::SystemTime::now() - Duration::from_secs(3600);
    let plant = |name: &str, old: bool| {
        let f = fs::File::create(dir.path().join(name)).unwrap();
        if old {
            f.set_modified(hour_ago).unwrap();
        }
    };
    plant(".p.json.tmp-4242", true);
    plant(".p.json.tmp-Xy7Qz1", true);
    plant(".p.json.tmp-young", false);
    plant(".other.json.tmp-4242", true);
    assert!(quiz(&progress).status.success());
    let mut left: Vec<String> = fs::read_dir(dir.path())
        .unwrap()
        .map(|e| e.unwrap().file_name().to_string_lossy().into_owned())
        .filter(|n| n.contains(".tmp-"))
        .collect();
    left.sort();
    assert_eq!(left, [".other.json.tmp-4242"]);
}

/// A FIFO used to hang `ask` forever waiting for a writer; `/dev/zero` was read until memory
/// ran out. Both are refused by file type before anything is opened for reading.
#[cfg(unix)]
#[test]
fn a_path_that_is_not_a_regular_file_is_refused_not_read() {
    use std::os::unix::fs::FileTypeExt;
    let dir = tempfile::tempdir().unwrap();
    let fifo = dir.path().join("p.fifo");
    assert!(
        std::process::Command::new("mkfifo")
            .arg(&fifo)
            .status()
            .unwrap()
            .success()
    );
    let o = gradtutor(&fifo)
        .args(["ask", "9", "--no-demo"])
        .output()
        .unwrap();
    assert!(o.status.success(), "{}", stderr(&o));
    let err = stderr(&o);
    assert!(
        err.contains("p.fifo") && err.contains("not a regular file") && err.contains("FIFO"),
        "{err}"
    );
    assert!(fs::symlink_metadata(&fifo).unwrap().file_type().is_fifo());
    assert!(
        !dir.path().join("p.fifo.lock").exists(),
        "refused before locking"
    );
    gradtutor(&fifo)
        .arg("progress")
        .assert()
        .failure()
        .stderr(predicates::str::contains("not a regular file"));

    // Under a 2 GiB address-space cap, so that a regression fails fast instead of eating the
    // machine's memory.
    let o = std::process::Command::new("sh")
        .args(["-c", "ulimit -v 2097152; exec \"$0\" \"$@\""])
        .arg(assert_cmd::cargo::cargo_bin("gradtutor"))
        .args(["quiz", "--question", "9", "--answers", "a,a"])
        .env("GRADTUTOR_PROGRESS", "/dev/zero")
        .env_remove("GRADTUTOR_SLOW_WRITE_MS")
        .output()
        .unwrap();
    assert!(o.status.success(), "{}", stderr(&o));
    let err = stderr(&o);
    assert!(
        err.contains("/dev/zero") && err.contains("not a regular file"),
        "{err}"
    );
}

/// A file past the cap is refused with its name and the limit, and left where it is.
#[test]
fn a_progress_file_over_16_mib_is_refused_with_its_name_and_the_limit() {
    let dir = tempfile::tempdir().unwrap();
    let progress = dir.path().join("p.json");
    assert!(quiz(&progress).status.success());
    // Still valid JSON, padded with whitespace to 17 MiB: only its size is wrong.
    let mut big = fs::read(&progress).unwrap();
    big.resize(17 << 20, b' ');
    fs::write(&progress, &big).unwrap();
    let o = quiz(&progress);
    assert!(o.status.success(), "{}", stderr(&o));
    let err = stderr(&o);
    assert!(
        err.contains("p.json") && err.contains("16 MiB") && err.contains("not recorded"),
        "{err}"
    );
    assert_eq!(fs::metadata(&progress).unwrap().len(), 17 << 20);
    gradtutor(&progress)
        .arg("progress")
        .assert()
        .failure()
        .stderr(predicates::str::contains("16 MiB"));
}

fn backups(dir: &Path) -> Vec<String> {
    fs::read_dir(dir)
        .unwrap()
        .map(|e| e.unwrap().file_name().to_string_lossy().into_owned())
        .filter(|n| n.contains(".bak-"))
        .collect()
}

// Catches: a read-only command moving a file aside, and a write moving or replacing a file
// that a symbolic link points to and that is not a progress file (the read-only `progress`
// renamed it to .bak-…, the next quiz wrote JSON in its place).
#[cfg(unix)]
#[test]
fn a_link_to_a_file_that_is_not_progress_is_refused_and_nothing_is_moved() {
    let dir = tempfile::tempdir().unwrap();
    let notes = dir.path().join("notes.txt");
    fs::write(&notes, "my notes, not JSON\n").unwrap();
    let link = dir.path().join("p.json");
    std::os::unix::fs::symlink("notes.txt", &link).unwrap();
    let o = gradtutor(&link).arg("progress").output().unwrap();
    assert!(o.status.success(), "{}", stderr(&o));
    assert!(stderr(&o).contains("left as it is"), "{}", stderr(&o));
    let o = quiz(&link);
    assert!(o.status.success(), "{}", stderr(&o));
    let err = stderr(&o);
    assert!(
        err.contains("p.json is a symbolic link to")
            && err.contains("notes.txt")
            && err.contains("nothing was moved or written")
            && err.contains("not recorded"),
        "{err}"
    );
    assert_eq!(fs::read_to_string(&notes).unwrap(), "my notes, not JSON\n");
    assert!(fs::symlink_metadata(&link).unwrap().is_symlink());
    assert!(
        !dir.path().join("notes.txt.lock").exists(),
        "no lock beside it either"
    );
    assert_eq!(backups(dir.path()), Vec::<String>::new());
    // A damaged file of its own (no link) is left alone by `progress`, and moved aside by
    // the next command that records.
    let own = dir.path().join("own.json");
    fs::write(&own, "{\"half\": ").unwrap();
    assert!(
        gradtutor(&own)
            .arg("progress")
            .output()
            .unwrap()
            .status
            .success()
    );
    assert_eq!(fs::read_to_string(&own).unwrap(), "{\"half\": ");
    assert_eq!(backups(dir.path()), Vec::<String>::new());
    assert!(quiz(&own).status.success());
    assert_eq!(backups(dir.path()).len(), 1);
    assert_eq!(quizzes(&own), 1);
}

// Catches: `bank dump --force` writing through a link in DIR to a file outside it.
#[cfg(unix)]
#[test]
fn bank_dump_force_refuses_a_link_out_of_the_folder() {
    let dir = tempfile::tempdir().unwrap();
    let bank = dir.path().join("bank");
    let victim = dir.path().join("victim.txt");
    fs::write(&victim, "keep me").unwrap();
    gradtutor(&dir.path().join("p.json"))
        .args(["bank", "dump"])
        .arg(&bank)
        .assert()
        .success();
    let settings = bank.join("bank.toml");
    fs::remove_file(&settings).unwrap();
    std::os::unix::fs::symlink("../victim.txt", &settings).unwrap();
    let o = gradtutor(&dir.path().join("p.json"))
        .args(["bank", "dump", "--force"])
        .arg(&bank)
        .output()
        .unwrap();
    assert_eq!(o.status.code(), Some(1));
    let err = stderr(&o);
    assert!(
        err.contains("bank.toml is a symbolic link to a file outside")
            && err.contains("nothing was written"),
        "{err}"
    );
    assert_eq!(fs::read_to_string(&victim).unwrap(), "keep me");
}

// Catches: a write larger than the read cap: a 14 MB record, indented on rewrite, passed
// 16 MiB, so it could never be written again and every record after it was lost.
#[test]
fn a_large_record_is_written_compact_so_it_can_be_read_back() {
    let dir = tempfile::tempdir().unwrap();
    let progress = dir.path().join("p.json");
    let items: Vec<serde_json::Value> = (0..245_000)
        .map(|i| serde_json::json!({"question": "vanishing-gradients", "item": i % 3, "correct": true}))
        .collect();
    let record = serde_json::json!({
        "format": "gradtutor-progress",
        "version": 1,
        "studied": {},
        "quizzes": [{"at": "2026-12-07 10:00:00 UTC", "items": items}],
    });
    let text = serde_json::to_string(&record).unwrap();
    assert!(
        (14_000_000..16 << 20).contains(&text.len()),
        "{}",
        text.len()
    );
    assert!(serde_json::to_string_pretty(&record).unwrap().len() > 16 << 20);
    fs::write(&progress, &text).unwrap();
    let o = gradtutor(&progress)
        .args(["ask", "9", "--no-demo"])
        .output()
        .unwrap();
    assert!(o.status.success(), "{}", stderr(&o));
    assert!(!stderr(&o).contains("not recorded"), "{}", stderr(&o));
    let size = fs::metadata(&progress).unwrap().len();
    assert!(size <= 16 << 20, "{size}");
    let p: serde_json::Value = serde_json::from_slice(&fs::read(&progress).unwrap()).unwrap();
    assert_eq!(p["studied"].as_object().unwrap().len(), 1);
    assert_eq!(p["quizzes"][0]["items"].as_array().unwrap().len(), 245_000);
}

// Catches: a study count that wraps (u32::MAX + 1 became 0; a debug build panicked).
#[test]
fn a_study_count_at_its_maximum_stays_there() {
    let dir = tempfile::tempdir().unwrap();
    let progress = dir.path().join("p.json");
    let slug = "gradient-clipping";
    let record = serde_json::json!({
        "format": "gradtutor-progress",
        "version": 1,
        "studied": {slug: {"times": 4_294_967_295u32, "last": "2026-12-07 10:00:00 UTC"}},
        "quizzes": [],
    });
    fs::write(&progress, record.to_string()).unwrap();
    let o = gradtutor(&progress)
        .args(["ask", "9", "--no-demo"])
        .output()
        .unwrap();
    assert!(o.status.success(), "{}", stderr(&o));
    let p: serde_json::Value = serde_json::from_slice(&fs::read(&progress).unwrap()).unwrap();
    assert_eq!(p["studied"][slug]["times"], 4_294_967_295u32, "{p}");
}
