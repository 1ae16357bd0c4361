// Command switchboard runs the Switchboard SIP/RTP back-to-back user agent.
//
//	switchboard -config configs/switchboard.yaml   run
//	switchboard -config FILE -check                validate the configuration and exit
//	switchboard -version                           print the version and exit
//	switchboard -pprof 127.0.0.1:6060 ...           also serve Go profiling (off by default)
//
// SIGTERM or SIGINT drain (new calls get 503; calls in progress go on for
// shutdown_grace, then get BYE). SIGHUP reloads users and routes; an invalid
// new configuration is refused and the old one kept.
package main

import (
	"context"
	"flag"
	"fmt"
	"io"
	"log/slog"
	"net"
	"net/http"
	_ "net/http/pprof" // served only with -pprof
	"net/netip"
	"os"
	"os/signal"
	"runtime"
	"runtime/debug"
	"strings"
	"sync"
	"syscall"
	"time"

	"github.com/switchboard/switchboard/b2bua"
	"github.com/switchboard/switchboard/config"
	"github.com/switchboard/switchboard/hep"
	"github.com/switchboard/switchboard/ops"
	"github.com/switchboard/switchboard/pgrecords"
)

// version is set at build time with -ldflags "-X main.version=...".
var version = "dev"

func main() {
	os.Exit(run(os.Args[1:], os.Stdout, os.Stderr))
}

func run(args []string, stdout, stderr io.Writer) int {
	fs := flag.NewFlagSet("switchboard", flag.ContinueOnError)
	fs.SetOutput(stderr)
	path := fs.String("config", "configs/switchboard.yaml", "configuration file")
	check := fs.Bool("check", false, "validate the configuration and exit")
	showVersion := fs.Bool("version", false, "print the version and exit")
	pprofAddr := fs.String("pprof", "", "serve Go profiling (net/http/pprof) on this address, e.g. 127.0.0.1:6060; off by default")
	if err := fs.Parse(args); err != nil {
		return 2
	}
	if *showVersion {
		fmt.Fprintln(stdout, "switchboard", version)
		return 0
	}

	cfg, err := config.Load(*path)
	if err != nil {
		fmt.Fprintln(stderr, "switchboard:", err)
		return 1
	}
	if *check {
		fmt.Fprintf(stdout, "%s: ok\n", *path)
		return 0
	}
	log := newLogger(cfg, stderr)
	applyRuntime(cfg.Runtime, log)
	if err := config.ResolvePasswords(cfg, log, stdout); err != nil {
		fmt.Fprintln(stderr, "switchboard:", err)
		return 1
	}
	if err := config.ResolveAPIToken(cfg, stdout); err != nil {
		fmt.Fprintln(stderr, "switchboard:", err)
		return 1
	}

	// Handle signals before announcing readiness: a SIGHUP that arrives
	// after "ready" must reload, not kill the process (Go's default).
	sigs := make(chan os.Signal, 4)
	signal.Notify(sigs, syscall.SIGTERM, syscall.SIGINT, syscall.SIGHUP)

	if *pprofAddr != "" {
		// Profiling exposes internals: bind it to loopback in production.
		go func() {
			if err := http.ListenAndServe(*pprofAddr, nil); err != nil {
				log.Error("pprof listener", "addr", *pprofAddr, "error", err)
			}
		}()
	}

	if err := b2bua.RepairRecordings(cfg.Services.Recordings, log); err != nil {
		log.Warn("recordings not checked", "dir", cfg.Services.Recordings, "error", err)
	}
	b2bua.SetTransactionLinger(cfg.SIP.TransactionLinger)
	srv, err := b2bua.New(cfg, log)
	if err != nil {
		fmt.Fprintln(stderr, "switchboard:", err)
		return 1
	}
	regStore, err := sharedRegistrations(cfg, srv, log)
	if err != nil {
		fmt.Fprintln(stderr, "switchboard: registrar.store:", err)
		_ = srv.Close()
		return 1
	}
	if err := srv.Listen(context.Background(), cfg.SIP.Listeners); err != nil {
		fmt.Fprintln(stderr, "switchboard:", err)
		_ = srv.Close()
		return 1
	}
	var ship *pgrecords.Shipper
	if cfg.Records.DatabaseURL != "" {
		ship, err = pgrecords.New(pgrecords.Config{URL: cfg.Records.DatabaseURL, RecordsDir: cfg.Records.Dir, StateDir: cfg.State.Dir},
			log.With("component", "pgrecords"))
		if err != nil {
			fmt.Fprintln(stderr, "switchboard: records.database_url:", err)
			_ = srv.Close()
			return 1
		}
		log.Info("records also shipped to PostgreSQL", "database", pgrecords.Redacted(cfg.Records.DatabaseURL))
	}
	var capture *hep.Exporter
	if cfg.HEP.Collector != "" {
		capture, err = hep.NewExporter(cfg.HEP.Collector, cfg.HEP.AgentID, cfg.HEP.Password, log.With("component", "hep"))
		if err != nil {
			fmt.Fprintln(stderr, "switchboard: hep.collector:", err)
			_ = srv.Close()
			return 1
		}
		srv.SetCapture(hepCapture(capture))
		srv.SetRTCPCapture(func(src, dst netip.AddrPort, pkt []byte, callID string) {
			capture.Capture(&hep.Packet{Proto: hep.ProtoRTCP, Src: src, Dst: dst, Time: time.Now(), Payload: pkt, Correlation: callID})
		})
		log.Info("SIP messages exported over HEP", "collector", cfg.HEP.Collector)
	}
	var reloadMu sync.Mutex // SIGHUP and the API reload one at a time
	doReload := func() error {
		reloadMu.Lock()
		defer reloadMu.Unlock()
		return reload(srv, *path, log, stdout)
	}
	var api *ops.Server
	if cfg.API.Listen != "" {
		api, err = ops.New(ops.Options{
			Addr: cfg.API.Listen, Token: cfg.API.Token, MetricsOpen: cfg.API.MetricsOpen,
			Switch: srv, Reload: doReload, Version: version, Log: log.With("component", "api"),
			Drain: func() {
				select {
				case sigs <- syscall.SIGTERM:
				default: // a signal is already pending
				}
			},
		})
		if err != nil {
			fmt.Fprintln(stderr, "switchboard: api.listen:", err)
			_ = srv.Close()
			return 1
		}
		fmt.Fprintf(stdout, "api on http://%s/api/v1/ (metrics at /metrics)\n", api.Addr())
	}
	fmt.Fprintf(stdout, "switchboard %s ready on %s\n", version, strings.Join(srv.Addrs(), " "))

	for sig := range sigs {
		if sig == syscall.SIGHUP {
			_ = doReload()
			continue
		}
		log.Info("signal received, draining", "signal", sig.String())
		srv.Drain(cfg.ShutdownGrace)
		break
	}
	if api != nil {
		_ = api.Close()
	}
	if err := srv.Close(); err != nil {
		log.Warn("close", "error", err)
	}
	if capture != nil {
		_ = capture.Close()
	}
	if regStore != nil {
		_ = regStore.Close() // after srv.Close: no REGISTER is handled any more
	}
	if ship != nil {
		_ = ship.Close() // after srv.Close flushed the last records to their file
	}
	log.Info("stopped")
	return 0
}

// applyRuntime sets the Go runtime's knobs from the runtime section; an
// environment variable the runtime reads itself (GOGC, GOMEMLIMIT,
// GOMAXPROCS) wins over the file.
func applyRuntime(r config.Runtime, log *slog.Logger) {
	if os.Getenv("GOGC") == "" {
		debug.SetGCPercent(r.GCPercent)
	}
	if os.Getenv("GOMEMLIMIT") == "" && r.MemoryLimitBytes > 0 {
		debug.SetMemoryLimit(r.MemoryLimitBytes)
	}
	if os.Getenv("GOMAXPROCS") == "" && r.MaxProcs > 0 {
		runtime.GOMAXPROCS(r.MaxProcs)
	}
	log.Debug("go runtime", "gomaxprocs", runtime.GOMAXPROCS(0), "GOGC", os.Getenv("GOGC"), "gc_percent", r.GCPercent)
}

// reload provisions the new configuration fully before swapping it in; a
// refused one is logged and returned, and the running one kept. The API
// section is read at start only.
func reload(srv *b2bua.Server, path string, log *slog.Logger, stdout io.Writer) error {
	cfg, err := config.Load(path)
	if err == nil {
		err = config.ResolvePasswords(cfg, log, stdout)
	}
	if err == nil {
		err = srv.Reload(cfg)
	}
	if err != nil {
		log.Error("reload refused; keeping the running configuration", "error", err)
		return err
	}
	log.Info("configuration reloaded", "users", len(cfg.Users), "routes", len(cfg.Routes))
	return nil
}

// hepCapture turns the server's capture hook into HEP packets.
func hepCapture(e *hep.Exporter) b2bua.Capture {
	return func(transport string, src, dst net.Addr, data []byte) {
		p := hep.Packet{Src: addrPort(src), Dst: addrPort(dst), TCP: transport != "UDP", Time: time.Now(), Payload: data}
		e.Capture(&p)
	}
}

func addrPort(a net.Addr) netip.AddrPort {
	switch a := a.(type) {
	case *net.UDPAddr:
		return a.AddrPort()
	case *net.TCPAddr:
		return a.AddrPort()
	}
	if a == nil {
		return netip.AddrPort{}
	}
	ap, _ := netip.ParseAddrPort(a.String())
	return ap
}

func newLogger(cfg *config.Config, w io.Writer) *slog.Logger {
	var level slog.Level
	if err := level.UnmarshalText([]byte(cfg.Log.Level)); err != nil {
		level = slog.LevelInfo
	}
	opts := &slog.HandlerOptions{Level: level}
	if cfg.Log.Format == "json" {
		return slog.New(slog.NewJSONHandler(w, opts))
	}
	return slog.New(slog.NewTextHandler(w, opts))
}
