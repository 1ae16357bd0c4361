package identity

import (
	"context"
	"crypto/tls"
	"crypto/x509"
	"errors"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"slices"
	"strings"
	"sync"
	"time"
)

// Fetcher defaults.
const (
	// DefaultFetchTimeout bounds one x5u fetch (connect, TLS, body).
	DefaultFetchTimeout = 2 * time.Second
	// DefaultMaxCertSize bounds the body of one x5u response.
	DefaultMaxCertSize = 16 << 10
	// DefaultCacheTTL is how long a fetched certificate is kept.
	DefaultCacheTTL = time.Hour
	// maxCacheEntries bounds the cache; when full, expired entries go,
	// then an arbitrary one.
	maxCacheEntries = 1024
)

// Fetch errors: the x5u could not be used (RFC 8224 §6.2.2: 436).
var (
	ErrHostNotAllowed = errors.New("x5u host not allowed")
	ErrFetch          = errors.New("x5u fetch failed")
)

// FetcherConfig configures a Fetcher.
type FetcherConfig struct {
	// AllowedHosts are the host names (or addresses) certificates may be
	// fetched from; none: nothing is fetched.
	AllowedHosts []string
	// RootCAs verify the HTTPS servers (nil: the system's roots).
	RootCAs *x509.CertPool
	// Timeout, MaxSize and TTL default to DefaultFetchTimeout,
	// DefaultMaxCertSize and DefaultCacheTTL.
	Timeout time.Duration
	MaxSize int64
	TTL     time.Duration
	// Now is the clock (default time.Now).
	Now func() time.Time
}

// Fetcher gets STI certificates by their x5u URL over HTTPS, with a cache
// keyed by URL. Only https:// URLs of allowed hosts are fetched; a body
// larger than the size limit is refused.
type Fetcher struct {
	client  *http.Client
	allowed []string
	maxSize int64
	ttl     time.Duration
	now     func() time.Time

	mu    sync.Mutex
	cache map[string]cached
}

type cached struct {
	certs   []*x509.Certificate
	expires time.Time
}

// NewFetcher returns a Fetcher for cfg.
func NewFetcher(cfg FetcherConfig) *Fetcher {
	f := &Fetcher{
		allowed: slices.Clone(cfg.AllowedHosts),
		maxSize: cfg.MaxSize,
		ttl:     cfg.TTL,
		now:     cfg.Now,
		cache:   map[string]cached{},
	}
	for i, h := range f.allowed {
		f.allowed[i] = strings.ToLower(h)
	}
	timeout := cfg.Timeout
	if timeout <= 0 {
		timeout = DefaultFetchTimeout
	}
	if f.maxSize <= 0 {
		f.maxSize = DefaultMaxCertSize
	}
	if f.ttl <= 0 {
		f.ttl = DefaultCacheTTL
	}
	if f.now == nil {
		f.now = time.Now
	}
	tr := &http.Transport{
		TLSClientConfig:     &tls.Config{RootCAs: cfg.RootCAs, MinVersion: tls.VersionTLS12},
		MaxIdleConnsPerHost: 2,
		IdleConnTimeout:     30 * time.Second,
	}
	f.client = &http.Client{
		Transport: tr,
		Timeout:   timeout,
		// A redirect could lead off the allowed hosts: none is followed.
		CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse },
	}
	return f
}

// Allowed reports whether x5u is an https:// URL of an allowed host.
func (f *Fetcher) Allowed(x5u string) bool {
	u, err := url.Parse(x5u)
	if err != nil || u.Scheme != "https" || u.User != nil {
		return false
	}
	return slices.Contains(f.allowed, strings.ToLower(u.Hostname()))
}

// Get returns the certificates published at x5u (leaf first), from the
// cache when a fetch of it is fresh.
func (f *Fetcher) Get(ctx context.Context, x5u string) ([]*x509.Certificate, error) {
	if !f.Allowed(x5u) {
		return nil, fmt.Errorf("%w: %s", ErrHostNotAllowed, x5u)
	}
	now := f.now()
	f.mu.Lock()
	c, ok := f.cache[x5u]
	f.mu.Unlock()
	if ok && now.Before(c.expires) {
		return c.certs, nil
	}
	certs, err := f.fetch(ctx, x5u)
	if err != nil {
		return nil, err
	}
	exp := now.Add(f.ttl)
	if na := certs[0].NotAfter; na.Before(exp) {
		exp = na
	}
	f.mu.Lock()
	if len(f.cache) >= maxCacheEntries {
		f.evict(now)
	}
	f.cache[x5u] = cached{certs: certs, expires: exp}
	f.mu.Unlock()
	return certs, nil
}

// evict makes room in the cache (f.mu held).
func (f *Fetcher) evict(now time.Time) {
	for k, c := range f.cache {
		if !now.Before(c.expires) {
			delete(f.cache, k)
		}
	}
	for k := range f.cache {
		if len(f.cache) < maxCacheEntries {
			return
		}
		delete(f.cache, k)
	}
}

func (f *Fetcher) fetch(ctx context.Context, x5u string) ([]*x509.Certificate, error) {
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, x5u, nil)
	if err != nil {
		return nil, fmt.Errorf("%w: %v", ErrFetch, err)
	}
	res, err := f.client.Do(req)
	if err != nil {
		return nil, fmt.Errorf("%w: %v", ErrFetch, err)
	}
	defer res.Body.Close()
	if res.StatusCode != http.StatusOK {
		return nil, fmt.Errorf("%w: %s: HTTP %d", ErrFetch, x5u, res.StatusCode)
	}
	if res.ContentLength > f.maxSize {
		return nil, fmt.Errorf("%w: %s: %d bytes, over the %d byte limit", ErrFetch, x5u, res.ContentLength, f.maxSize)
	}
	body, err := io.ReadAll(io.LimitReader(res.Body, f.maxSize+1))
	if err != nil {
		return nil, fmt.Errorf("%w: %v", ErrFetch, err)
	}
	if int64(len(body)) > f.maxSize {
		return nil, fmt.Errorf("%w: %s: over the %d byte limit", ErrFetch, x5u, f.maxSize)
	}
	certs, err := ParseCerts(body)
	if err != nil {
		return nil, fmt.Errorf("%w: %s: %v", ErrFetch, x5u, err)
	}
	return certs, nil
}
