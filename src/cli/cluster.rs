//! `gpucount cluster`: which rank this process is (flags, a launcher's
//! environment, or a `--local` parent), starting `--local` children, and
//! rank 0's printing. The counting and merging are the library's
//! ([`gpucount::cluster`]).

use super::args::ClusterArgs;
use super::{fail, finish, output, save_table, say};
use gpucount::cluster::{self, Cluster};
use gpucount::error::Error;
use gpucount::saved;
use std::net::TcpListener;
use std::os::unix::process::CommandExt;
use std::path::Path;
use std::process::{Command, ExitCode, Stdio};
use std::time::Duration;

/// Set in `--local` children: the hosts (comma-separated) and the child's rank.
const HOSTS_ENV: &str = "GPUCOUNT_CLUSTER_HOSTS";
const RANK_ENV: &str = "GPUCOUNT_CLUSTER_RANK";
/// The file descriptor a `--local` child finds its listening socket at.
const LISTEN_FD: i32 = 3;

/// Launchers' rank and size variables: mpirun (Open MPI), srun, PMI (MPICH, Intel MPI).
const LAUNCHERS: [(&str, &str); 3] =
    [("OMPI_COMM_WORLD_RANK", "OMPI_COMM_WORLD_SIZE"), ("SLURM_PROCID", "SLURM_NTASKS"), ("PMI_RANK", "PMI_SIZE")];

pub fn cluster(args: &ClusterArgs) -> ExitCode {
    let config = match args.count.config() {
        Ok(c) => c,
        Err(e) => return fail(&e, 2),
    };
    let me = match (args.local, std::env::var(RANK_ENV)) {
        (Some(_), Ok(rank)) => child(&rank),
        (Some(n), Err(_)) => return launch(args, n as usize, config),
        (None, _) => from_hosts(args),
    };
    match me {
        Ok((hosts, rank, listener)) => run_rank(rank_of(args, hosts, rank, listener), config),
        Err(e) => fail(&Error::Config(e), 2),
    }
}

/// Rank `rank` of `hosts` with the flags of `args`.
fn rank_of(args: &ClusterArgs, hosts: Vec<String>, rank: usize, listener: Option<TcpListener>) -> Cluster {
    Cluster {
        hosts,
        rank,
        listener,
        connect_timeout: Duration::from_secs_f64(args.connect_timeout),
        job: job_digest(args),
        own_inputs: args.own_inputs,
        stall: Duration::from_millis(args.stall_ms),
        min_piece: args.min_piece,
    }
}

/// Runs this process as one rank; rank 0 prints. Every rank exits 2 when
/// some input had a problem, as a count does; a failed exchange exits 1 at
/// once (engine threads may still be blocked on a dead peer).
fn run_rank(c: Cluster, config: super::args::Config) -> ExitCode {
    let rank = c.rank;
    let out = &config.out;
    if rank == 0 {
        output::arm_cleanup(out);
    }
    let finished = match cluster::run(c, config.operands.clone(), &config.options) {
        Ok(f) => f,
        Err(e) => {
            say(format!("rank {rank}: {e}"));
            std::process::exit(1);
        }
    };
    if let Some(mut outcome) = finished.outcome {
        for w in &outcome.warnings {
            say(w);
        }
        for e in &outcome.errors {
            say(e);
        }
        if let Err(code) = save_table(out, &outcome, saved::KeyOptions::of(&config.options)) {
            return code;
        }
        if let Err(code) = finish(out, &mut outcome) {
            return code;
        }
    }
    if finished.problems == 0 { ExitCode::SUCCESS } else { ExitCode::from(2) }
}

/// The hosts file's entries: `host:port` lines, blank lines and `#` comments left out.
fn read_hosts(path: &Path) -> Result<Vec<String>, String> {
    let text =
        std::fs::read_to_string(path).map_err(|e| format!("cannot read the hosts file {}: {e}", path.display()))?;
    let hosts: Vec<String> = text
        .lines()
        .map(|l| l.split('#').next().unwrap_or("").trim())
        .filter(|l| !l.is_empty())
        .map(str::to_string)
        .collect();
    if let Some(bad) = hosts.iter().find(|h| h.rsplit_once(':').is_none_or(|(_, p)| p.parse::<u16>().is_err())) {
        return Err(format!("{}: {bad:?} is not host:port", path.display()));
    }
    if hosts.is_empty() {
        return Err(format!("{}: no hosts listed", path.display()));
    }
    Ok(hosts)
}

type Me = (Vec<String>, usize, Option<TcpListener>);

/// `--hosts FILE` with `--rank I`, or the rank a launcher set.
fn from_hosts(args: &ClusterArgs) -> Result<Me, String> {
    let path =
        args.hosts.as_deref().ok_or("cluster needs --hosts FILE (with --rank I or under mpirun/srun) or --local N")?;
    let hosts = read_hosts(path)?;
    let rank = match args.rank {
        Some(r) => r,
        None => {
            let (rank, size, var) = launcher_rank()?;
            if let Some(size) = size.filter(|&s| s != hosts.len()) {
                return Err(format!("{var} says {size} processes, but {} lists {}", path.display(), hosts.len()));
            }
            rank
        }
    };
    if rank >= hosts.len() {
        return Err(format!(
            "rank {rank}, but {} lists {} hosts (ranks 0 to {})",
            path.display(),
            hosts.len(),
            hosts.len() - 1
        ));
    }
    Ok((hosts, rank, None))
}

/// The rank (and size) a launcher put in the environment.
fn launcher_rank() -> Result<(usize, Option<usize>, &'static str), String> {
    for (rank_var, size_var) in LAUNCHERS {
        if let Ok(v) = std::env::var(rank_var) {
            let rank = v.trim().parse().map_err(|_| format!("{rank_var}={v:?} is not a rank"))?;
            let size = std::env::var(size_var).ok().and_then(|s| s.trim().parse().ok());
            return Ok((rank, size, size_var));
        }
    }
    Err("no --rank, and no launcher's rank in the environment (OMPI_COMM_WORLD_RANK, SLURM_PROCID, PMI_RANK)".into())
}

/// A `--local` child: its hosts and rank from the parent, its socket at [`LISTEN_FD`].
fn child(rank: &str) -> Result<Me, String> {
    use std::os::fd::FromRawFd;
    let hosts: Vec<String> = std::env::var(HOSTS_ENV)
        .map_err(|_| format!("{HOSTS_ENV} is not set"))?
        .split(',')
        .map(str::to_string)
        .collect();
    let rank = rank.parse().map_err(|_| format!("{RANK_ENV}={rank:?} is not a rank"))?;
    // SAFETY: the parent put this child's listening socket at LISTEN_FD, and nothing else owns it.
    let listener = unsafe { TcpListener::from_raw_fd(LISTEN_FD) };
    listener.local_addr().map_err(|e| format!("no listening socket at fd {LISTEN_FD}: {e}"))?;
    Ok((hosts, rank, Some(listener)))
}

/// `--local N`: binds N sockets (so no port is ever free between chosen
/// and used), starts ranks 1..N as children that inherit theirs, and runs
/// rank 0 here. The status is the worst of all.
fn launch(args: &ClusterArgs, n: usize, config: super::args::Config) -> ExitCode {
    let bound = (0..n)
        .map(|_| TcpListener::bind("127.0.0.1:0").and_then(|l| l.local_addr().map(|a| (l, a.to_string()))))
        .collect::<Result<Vec<_>, _>>();
    let (mut listeners, hosts): (Vec<TcpListener>, Vec<String>) = match bound {
        Ok(b) => b.into_iter().unzip(),
        Err(e) => return fail(&Error::io("binding local ports", e), 1),
    };
    let exe = match std::env::current_exe() {
        Ok(e) => e,
        Err(e) => return fail(&Error::io("finding this program", e), 1),
    };
    let mut children = Vec::new();
    for (rank, listener) in listeners.iter().enumerate().skip(1) {
        use std::os::fd::AsRawFd;
        let fd = listener.as_raw_fd();
        let mut cmd = Command::new(&exe);
        cmd.args(std::env::args_os().skip(1))
            .env(HOSTS_ENV, hosts.join(","))
            .env(RANK_ENV, rank.to_string())
            .stdin(Stdio::null())
            .stdout(Stdio::null());
        // SAFETY: only async-signal-safe calls between fork and exec.
        unsafe {
            cmd.pre_exec(move || {
                // dup2 to itself would keep close-on-exec: clear it instead.
                let r = if fd == LISTEN_FD { libc::fcntl(fd, libc::F_SETFD, 0) } else { libc::dup2(fd, LISTEN_FD) };
                if r < 0 {
                    return Err(std::io::Error::last_os_error());
                }
                // A child outlives no parent: it would wait for peers that are gone.
                libc::prctl(libc::PR_SET_PDEATHSIG, libc::SIGTERM);
                Ok(())
            });
        }
        match cmd.spawn() {
            Ok(c) => children.push(c),
            Err(e) => return fail(&Error::io("starting a process", e), 1),
        }
    }
    listeners.truncate(1);
    let c = rank_of(args, hosts, 0, listeners.pop());
    let mut worst = run_rank(c, config);
    for mut child in children {
        let ok = child.wait().is_ok_and(|s| s.success());
        if !ok && worst == ExitCode::SUCCESS {
            worst = ExitCode::from(1);
        }
    }
    worst
}

/// What every rank must be given alike, beyond what the library checks
/// (the counting options and the inputs): the hosts, and the options that
/// decide how documents are read.
fn job_digest(args: &ClusterArgs) -> u64 {
    let t = &args.count.text;
    let alike = format!(
        "{:?}",
        (
            &t.encoding,
            t.hidden,
            t.no_ignore,
            &t.globs,
            &t.exclude,
            t.binary,
            t.raw,
            t.html,
            &t.select,
            t.max_token_bytes,
            t.chunk_bytes
        )
    );
    xxhash_rust::xxh3::xxh3_64(alike.as_bytes())
}
