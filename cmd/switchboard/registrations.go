package main

import (
	"fmt"
	"log/slog"
	"os"
	"strings"

	"github.com/switchboard/switchboard/b2bua"
	"github.com/switchboard/switchboard/config"
	"github.com/switchboard/switchboard/pgrecords"
)

// sharedRegistrations opens the registration store registrar.store names
// and hands it to the server; nil for memory.
func sharedRegistrations(cfg *config.Config, srv *b2bua.Server, log *slog.Logger) (*pgrecords.Registrations, error) {
	if cfg.Registrar.Store != config.RegistrarStorePostgres {
		return nil, nil
	}
	host, _ := os.Hostname()
	instance := fmt.Sprintf("%s %s pid %d", host, strings.Join(cfg.SIP.Listen, ","), os.Getpid())
	st, err := pgrecords.NewRegistrations(cfg.Records.DatabaseURL, instance, log.With("component", "registrations"))
	if err != nil {
		return nil, err
	}
	srv.ShareRegistrations(st)
	log.Info("registrations shared through PostgreSQL", "database", pgrecords.Redacted(cfg.Records.DatabaseURL))
	return st, nil
}
