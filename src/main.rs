//! gradtutor's entry point: parse, run, report errors, exit code.

use clap::Parser;
use gradtutor::Cli;
use std::io::{ErrorKind, Write};
use std::process::ExitCode;

fn main() -> ExitCode {
    let cli = match Cli::try_parse() {
        Ok(cli) => cli,
        // Help and version go to stdout as clap lays them out; errors echo input, so their
        // control characters are escaped first and long arguments shortened.
        Err(e) if !e.use_stderr() => {
            let _ = e.print();
            return ExitCode::SUCCESS;
        }
        Err(e) => {
            let args: Vec<std::ffi::OsString> = std::env::args_os().collect();
            eprint!("{}", gradtutor::cli_error_text(&e, &args));
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
            eprintln!("error: {}", gradtutor::escape_lines(&e.to_string()));
            for cause in e.chain().skip(1) {
                eprintln!(
                    "  caused by: {}",
                    gradtutor::escape_lines(&cause.to_string())
                );
            }
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

fn is_broken_pipe(e: &anyhow::Error) -> bool {
    e.downcast_ref::<std::io::Error>()
        .is_some_and(|io| io.kind() == ErrorKind::BrokenPipe)
}
