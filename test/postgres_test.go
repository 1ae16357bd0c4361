package test

import (
	"context"
	"fmt"
	"os"
	"os/exec"
	"os/user"
	"path/filepath"
	"strconv"
	"testing"
	"time"

	"github.com/jackc/pgx/v5"
)

// Postgres is a throwaway PostgreSQL server on a loopback port, in a
// temporary directory, started by the test (Debian's postgresql package).
type Postgres struct {
	t    testing.TB
	bin  string // directory of initdb and pg_ctl
	data string
	port int
	asPG bool // run the server as the postgres user (the tests run as root)
	URL  string
}

// startPostgres initialises and starts a server; it is stopped when the
// test ends.
func startPostgres(t testing.TB) *Postgres {
	t.Helper()
	bins, _ := filepath.Glob("/usr/lib/postgresql/*/bin/initdb")
	if len(bins) == 0 {
		if os.Getenv("CI") != "" {
			t.Fatal("PostgreSQL (initdb) is required under CI (make deps installs postgresql)")
		}
		t.Skip("PostgreSQL not installed")
	}
	pg := &Postgres{t: t, bin: filepath.Dir(bins[len(bins)-1]), port: 15000 + 10*instance()}
	pg.asPG = os.Geteuid() == 0 // initdb refuses to run as root
	root, err := os.MkdirTemp("", "sbtest-pg-")
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { os.RemoveAll(root) })
	pg.data = filepath.Join(root, "data")
	if err := os.Mkdir(pg.data, 0o700); err != nil {
		t.Fatal(err)
	}
	if pg.asPG {
		u, err := user.Lookup("postgres")
		if err != nil {
			t.Fatalf("running as root needs the postgres user: %v", err)
		}
		uid, _ := strconv.Atoi(u.Uid)
		gid, _ := strconv.Atoi(u.Gid)
		if err := os.Chmod(root, 0o755); err != nil {
			t.Fatal(err)
		}
		if err := os.Chown(pg.data, uid, gid); err != nil {
			t.Fatal(err)
		}
	}
	pg.run("initdb", "-D", pg.data, "-A", "trust", "-U", "switchboard", "--no-sync", "-E", "UTF8")
	pg.URL = fmt.Sprintf("postgres://switchboard@127.0.0.1:%d/postgres?sslmode=disable", pg.port)
	pg.Start()
	t.Cleanup(pg.Stop)
	return pg
}

func (pg *Postgres) run(name string, args ...string) {
	pg.t.Helper()
	cmd := exec.Command(filepath.Join(pg.bin, name), args...)
	if pg.asPG {
		cmd = exec.Command("runuser", append([]string{"-u", "postgres", "--", filepath.Join(pg.bin, name)}, args...)...)
	}
	cmd.Dir = "/"
	if out, err := cmd.CombinedOutput(); err != nil {
		pg.t.Fatalf("%s: %v\n%s", name, err, out)
	}
}

// Start starts (or restarts) the server and waits until it answers.
func (pg *Postgres) Start() {
	pg.t.Helper()
	opts := fmt.Sprintf("-c listen_addresses=127.0.0.1 -p %d -k %s -c fsync=off", pg.port, pg.data)
	pg.run("pg_ctl", "-D", pg.data, "-o", opts, "-l", filepath.Join(pg.data, "server.log"), "-w", "-t", "30", "start")
}

// Stop stops the server at once (in-flight transactions are aborted).
func (pg *Postgres) Stop() {
	cmd := exec.Command(filepath.Join(pg.bin, "pg_ctl"), "-D", pg.data, "-m", "immediate", "-w", "stop")
	if pg.asPG {
		cmd = exec.Command("runuser", "-u", "postgres", "--", filepath.Join(pg.bin, "pg_ctl"), "-D", pg.data, "-m", "immediate", "-w", "stop")
	}
	cmd.Dir = "/"
	_ = cmd.Run()
}

// Query runs a one-value query.
func (pg *Postgres) QueryInt(q string) int {
	pg.t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	conn, err := pgx.Connect(ctx, pg.URL)
	if err != nil {
		pg.t.Fatalf("connect: %v", err)
	}
	defer conn.Close(ctx)
	var n int
	if err := conn.QueryRow(ctx, q).Scan(&n); err != nil {
		pg.t.Fatalf("%s: %v", q, err)
	}
	return n
}
