//! gradtutor's entry point: parse, run, report errors, exit code.

use gradtutor::Cli;
use std::io::{ErrorKind, Write};
use std::process::ExitCode;

fn main() -> ExitCode {
    // Rust's stdout drops writes to a closed descriptor without a word (`gradtutor list >&-`
    // would succeed having printed nothing): refuse before anything runs.
    if let Err(e) = stdout_open() {
        eprintln!("error: cannot write to standard output: {e}");
        return ExitCode::FAILURE;
    }
    let cli = match Cli::try_parse_args() {
        Ok(cli) => cli,
        // Help and version go to stdout as clap lays them out; errors echo input, so their
        // control characters are escaped first and long arguments shortened.
        Err(e) if !e.use_stderr() => {
            return match e.print().and_then(|()| std::io::stdout().flush()) {
                Ok(()) => ExitCode::SUCCESS,
                Err(io) if io.kind() == ErrorKind::BrokenPipe => ExitCode::SUCCESS,
                Err(io) => {
                    eprintln!("error: cannot write to standard output: {io}");
                    ExitCode::FAILURE
                }
            };
        }
        Err(e) => {
            let args: Vec<std::ffi::OsString> = std::env::args_os().collect();
            let text = gradtutor::cli_error_text(&e, &args);
            eprint!("{}", gradtutor::error_lines(&text));
            return ExitCode::from(e.exit_code().clamp(1, 255) as u8);
        }
    };
    use_threads(cli.threads());
    let mut out = std::io::stdout().lock();
    let result = gradtutor::run(&cli, &mut out).and_then(|()| Ok(out.flush()?));
    match result {
        Ok(()) => ExitCode::SUCCESS,
        // `gradtutor list | head` closes the pipe early: not an error.
        Err(e) if is_broken_pipe(&e) => ExitCode::SUCCESS,
        Err(e) => {
            let mut text = format!("error: {}\n", gradtutor::escape_lines(&e.to_string()));
            for cause in e.chain().skip(1) {
                let cause = gradtutor::escape_lines(&cause.to_string());
                text.push_str(&format!("  caused by: {cause}\n"));
            }
            eprint!("{}", gradtutor::error_lines(&text));
            ExitCode::FAILURE
        }
    }
}

/// Caps the threads: rayon's pool (whole runs, and the engine's per-layer work) and
/// matrixmultiply's GEMM (which reads MATMUL_NUM_THREADS once, on its first product, and
/// otherwise guesses physical cores). The default is one per core.
fn use_threads(threads: Option<u16>) {
    let cores = || std::thread::available_parallelism().map_or(1, |c| c.get());
    let n = threads.map_or_else(cores, usize::from);
    // Built once, before any parallel work: it cannot already exist.
    let _ = rayon::ThreadPoolBuilder::new()
        .num_threads(n)
        .build_global();
    if threads.is_some() || std::env::var_os("MATMUL_NUM_THREADS").is_none() {
        // SAFETY: no other thread exists yet, so nothing reads the environment concurrently.
        unsafe { std::env::set_var("MATMUL_NUM_THREADS", n.to_string()) };
    }
}

/// Whether standard output was open when the program started. Rust's runtime puts
/// `/dev/null`, opened read-write, in place of a closed standard descriptor, so on Linux that
/// is what `>&-` looks like (a shell opens it write-only for `> /dev/null`); elsewhere on
/// Unix a descriptor that cannot be duplicated is closed.
#[cfg(target_os = "linux")]
fn stdout_open() -> std::io::Result<()> {
    let null = std::fs::read_link("/proc/self/fd/1").is_ok_and(|p| p.as_os_str() == "/dev/null");
    // `flags:` in octal; O_ACCMODE is 3 and O_RDWR 2.
    let read_write = std::fs::read_to_string("/proc/self/fdinfo/1")
        .ok()
        .and_then(|info| {
            let flags = info.lines().find_map(|l| l.strip_prefix("flags:"))?;
            u32::from_str_radix(flags.trim(), 8).ok()
        })
        .is_some_and(|f| f & 3 == 2);
    match null && read_write {
        true => Err(std::io::Error::other("it is closed")),
        false => Ok(()),
    }
}

#[cfg(all(unix, not(target_os = "linux")))]
fn stdout_open() -> std::io::Result<()> {
    use std::os::fd::AsFd;
    std::io::stdout().as_fd().try_clone_to_owned().map(drop)
}

#[cfg(not(unix))]
fn stdout_open() -> std::io::Result<()> {
    Ok(())
}

fn is_broken_pipe(e: &anyhow::Error) -> bool {
    e.downcast_ref::<std::io::Error>()
        .is_some_and(|io| io.kind() == ErrorKind::BrokenPipe)
}
