package config

// Registrar configures where registrations are kept (package registrar).
type Registrar struct {
	// Store is memory (each instance keeps the registrations it took, the
	// default) or postgres: also written through to the table
	// switchboard_registrations in records.database_url, so instances
	// behind one front door (configs/kamailio) find a user registered
	// through any of them. Read at start only.
	Store string `yaml:"store"`
}

// Registrar stores (registrar.store).
const (
	RegistrarStoreMemory   = "memory"
	RegistrarStorePostgres = "postgres"
)

func (c *Config) applyRegistrarDefaults() {
	if c.Registrar.Store == "" {
		c.Registrar.Store = RegistrarStoreMemory
	}
}

func (v *validator) registrar() {
	v.oneOf("registrar.store", v.c.Registrar.Store, RegistrarStoreMemory, RegistrarStorePostgres)
	if v.c.Registrar.Store == RegistrarStorePostgres && v.c.Records.DatabaseURL == "" {
		v.errf("registrar.store", "postgres keeps registrations in the records database: set records.database_url too")
	}
}
