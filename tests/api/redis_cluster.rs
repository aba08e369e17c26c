//! `REDIS_URL` naming a Redis Cluster (`redis-cluster://…`): a real cluster of three masters,
//! started here with `redis-server --cluster-enabled yes` and `redis-cli --cluster create`.
//! The dashboards' keys share the `{stats}` hash tag, so their multi-key reads, atomic
//! increments and reconciliation work across the cluster; a master killed mid-run leaves the
//! server answering from PostgreSQL, and it uses the cluster again when the master is back.

use std::net::TcpListener;
use std::path::PathBuf;
use std::process::{Child, Command, Stdio};
use std::time::Duration;

use crate::helpers::{spawn_app_with, Options, TestApp};

fn free_port() -> u16 {
    TcpListener::bind("127.0.0.1:0")
        .and_then(|l| l.local_addr())
        .map(|a| a.port())
        .expect("port")
}

fn cli(port: u16, args: &[&str]) -> String {
    let output = Command::new("redis-cli")
        .arg("-p")
        .arg(port.to_string())
        .args(args)
        .output()
        .expect("redis-cli on PATH (make test installs Redis)");
    String::from_utf8_lossy(&output.stdout).into_owned()
}

/// Three masters, no replicas, on free ports; stopped when dropped.
struct RedisCluster {
    ports: Vec<u16>,
    bus_ports: Vec<u16>,
    dir: PathBuf,
    nodes: Vec<Option<Child>>,
}

impl RedisCluster {
    fn start() -> Self {
        let ports: Vec<u16> = (0..3).map(|_| free_port()).collect();
        let bus_ports: Vec<u16> = (0..3).map(|_| free_port()).collect();
        let dir = std::env::temp_dir().join(format!("zhuqi-redis-cluster-{}", ports[0]));
        std::fs::create_dir_all(&dir).expect("cluster dir");
        let mut cluster = Self {
            ports,
            bus_ports,
            dir,
            nodes: Vec::new(),
        };
        for i in 0..3 {
            let node = cluster.spawn(i);
            cluster.nodes.push(Some(node));
        }
        for port in &cluster.ports {
            assert!(
                (0..100).any(|_| {
                    std::thread::sleep(Duration::from_millis(50));
                    cli(*port, &["ping"]).trim() == "PONG"
                }),
                "node {port} answers"
            );
        }
        let nodes: Vec<String> = cluster.ports.iter().map(|p| format!("127.0.0.1:{p}")).collect();
        let created = Command::new("redis-cli")
            .args(["--cluster", "create"])
            .args(&nodes)
            .args(["--cluster-replicas", "0", "--cluster-yes"])
            .stdout(Stdio::null())
            .status()
            .expect("redis-cli --cluster create");
        assert!(created.success());
        assert!(cluster.settled(), "the cluster settles");
        cluster
    }

    fn spawn(&self, i: usize) -> Child {
        Command::new("redis-server")
            .args(["--port", &self.ports[i].to_string()])
            .args(["--cluster-port", &self.bus_ports[i].to_string()])
            .args(["--bind", "127.0.0.1", "--cluster-enabled", "yes"])
            .args(["--cluster-config-file", &format!("nodes-{}.conf", self.ports[i])])
            .args([
                "--cluster-node-timeout",
                "2000",
                "--save",
                "",
                "--appendonly",
                "no",
            ])
            .arg("--dir")
            .arg(&self.dir)
            .stdout(Stdio::null())
            .spawn()
            .expect("redis-server on PATH")
    }

    /// Every node says the cluster is whole, for at most ten seconds.
    fn settled(&self) -> bool {
        (0..200).any(|_| {
            std::thread::sleep(Duration::from_millis(50));
            self.ports
                .iter()
                .all(|p| cli(*p, &["cluster", "info"]).contains("cluster_state:ok"))
        })
    }

    fn url(&self) -> String {
        let nodes: Vec<String> = self.ports.iter().map(|p| format!("127.0.0.1:{p}")).collect();
        format!("redis-cluster://{}", nodes.join(","))
    }

    /// The node whose keys match `pattern` (the dashboards' slot lives on exactly one).
    fn holders(&self, pattern: &str) -> Vec<usize> {
        (0..3)
            .filter(|i| {
                !cli(self.ports[*i], &["--scan", "--pattern", pattern])
                    .trim()
                    .is_empty()
            })
            .collect()
    }

    fn kill(&mut self, i: usize) {
        if let Some(mut node) = self.nodes[i].take() {
            node.kill().expect("SIGKILL");
            node.wait().expect("reaped");
        }
    }

    fn restart(&mut self, i: usize) {
        let node = self.spawn(i);
        self.nodes[i] = Some(node);
    }
}

impl Drop for RedisCluster {
    fn drop(&mut self) {
        for i in 0..3 {
            self.kill(i);
        }
        let _ = std::fs::remove_dir_all(&self.dir);
    }
}

/// Polls `/readyz` until Redis is reported as `want`, for at most ten seconds.
async fn redis_reported(app: &TestApp, want: &str) -> bool {
    for _ in 0..100 {
        if app.get("/readyz", None).await.body["redis"] == want {
            return true;
        }
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    false
}

async fn demo_on(cluster: &RedisCluster) -> TestApp {
    let app = spawn_app_with(Options {
        redis_url: cluster.url(),
        ..Options::default()
    })
    .await;
    app.seed_demo_with(zhuqi::demo::History::Week);
    assert!(redis_reported(&app, "up").await, "connects to the cluster");
    app
}

async fn sign_in(app: &TestApp, enterprise_name: &str) {
    let (_, signed) = app.sign_in_at(enterprise_name).await;
    assert_eq!(signed.status, 201, "{}", signed.body);
}

#[tokio::test]
async fn the_dashboards_run_on_a_redis_cluster_with_their_keys_in_one_slot() {
    let cluster = RedisCluster::start();
    let app = demo_on(&cluster).await;
    let dispatcher = app.token("hub.dispatcher").await;
    sign_in(&app, "中车株洲电力机车有限公司").await;
    let first = app.get("/api/v1/stats/overview", Some(&dispatcher)).await;
    assert_eq!(first.status, 200, "{}", first.body);
    assert_eq!(first.body["officers_signed_in"], 1);
    let again = app.get("/api/v1/stats/overview", Some(&dispatcher)).await;
    assert_eq!(again.body, first.body);
    // Yesterday's figures: an answer about a day that is over, which reconciliation checks.
    let yesterday = app
        .get("/api/v1/stats/overview?day=2026-11-19", Some(&dispatcher))
        .await;
    assert_eq!(yesterday.status, 200, "{}", yesterday.body);

    // The counters, generations and cached figures all sit on the node of `{stats}`'s slot.
    let tagged = format!("{}{{stats}}:*", app.redis_prefix);
    assert_eq!(
        cluster.holders(&tagged).len(),
        1,
        "one node holds the dashboards' slot"
    );
    let figures = format!("{}{{stats}}:fig:*", app.redis_prefix);
    assert_eq!(cluster.holders(&figures), cluster.holders(&tagged));

    // Reconciliation finds the cached figures on that node (SCAN routed to the slot).
    let cache = zhuqi::cache::Cache::new(&cluster.url(), Duration::from_millis(500), &app.redis_prefix);
    cache.connect_in_background();
    while !cache.ping().await {
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    // The demo's week was written straight into PostgreSQL, so its counters are made now, in
    // atomic multi-key writes to the slot; a second pass finds nothing left to repair.
    let first = zhuqi::stats::reconcile::run(&app.pool, &cache, app.clock.now())
        .await
        .expect("reconcile");
    assert!(first.counters_repaired >= 1, "{first:?}");
    let outcome = zhuqi::stats::reconcile::run(&app.pool, &cache, app.clock.now())
        .await
        .expect("reconcile");
    assert!(outcome.answers_checked >= 1, "{outcome:?}");
    assert_eq!(
        (outcome.counters_repaired, outcome.answers_repaired),
        (0, 0),
        "{outcome:?}"
    );
    assert_eq!(cluster.holders(&tagged).len(), 1, "the repaired counters too");
}

#[tokio::test]
async fn a_master_killed_mid_run_leaves_the_server_answering_from_postgresql() {
    let mut cluster = RedisCluster::start();
    let app = demo_on(&cluster).await;
    let dispatcher = app.token("hub.dispatcher").await;
    sign_in(&app, "中车株洲电力机车有限公司").await;
    let before = app.get("/api/v1/stats/overview", Some(&dispatcher)).await;
    assert_eq!(before.body["officers_signed_in"], 1);
    let holder = cluster.holders(&format!("{}{{stats}}:*", app.redis_prefix));
    assert_eq!(holder.len(), 1);

    cluster.kill(holder[0]);
    // Writes and reads go on, from PostgreSQL: the second sign-in is counted.
    sign_in(&app, "株洲千金药业股份有限公司").await;
    let during = app.get("/api/v1/stats/overview", Some(&dispatcher)).await;
    assert_eq!(during.status, 200, "{}", during.body);
    assert_eq!(during.body["officers_signed_in"], 2);

    // The master comes back (its node file keeps its slots): the cache is used again, and the
    // figures stay right (the bumps lost meanwhile retire what was cached before).
    cluster.restart(holder[0]);
    assert!(cluster.settled(), "the cluster is whole again");
    assert!(redis_reported(&app, "up").await);
    let after = app.get("/api/v1/stats/overview", Some(&dispatcher)).await;
    assert_eq!(after.status, 200);
    assert_eq!(after.body["officers_signed_in"], 2, "{}", after.body);
}
