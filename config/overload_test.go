package config

import (
	"strings"
	"testing"
)

func TestOverloadErrors(t *testing.T) {
	for _, tt := range []struct {
		name, to, want string
	}{
		{"delay", "overload:\n  max_queue_delay: -1ms\nmedia:", "x.yaml:5: overload.max_queue_delay: must be a positive duration"},
		{"setups", "overload:\n  max_setups: -1\nmedia:", "x.yaml:5: overload.max_setups: must be 0 (unbounded) or more, got -1"},
		{"retry after", "overload:\n  retry_after: 1500ms\nmedia:", "x.yaml:5: overload.retry_after: must be whole seconds"},
		{"reserve", "overload:\n  fd_reserve: 3\nmedia:", "x.yaml:5: overload.fd_reserve: must be 16 or more"},
		{"typo", "overload:\n  max_setup: 3\nmedia:", `unknown key "max_setup" in overload (did you mean "max_setups"?)`},
	} {
		t.Run(tt.name, func(t *testing.T) {
			_, err := parse("configs/x.yaml", []byte(strings.Replace(base, "media:", tt.to, 1)), env(nil))
			if err == nil || !strings.Contains(err.Error(), tt.want) {
				t.Fatalf("error %v\nwant %q", err, tt.want)
			}
		})
	}
}

func TestCheckDescriptors(t *testing.T) {
	pw := env(map[string]string{"PW_1000": "x"})
	c, err := parse("x.yaml", []byte(base), pw)
	if err != nil {
		t.Fatal(err)
	}
	if !c.Overload.On() || c.Overload.FDReserve != DefaultFDReserve || c.Overload.RetryAfter != DefaultRetryAfter {
		t.Fatalf("defaults: %+v", c.Overload)
	}
	pairs := (c.Media.PortMax - c.Media.PortMin + 1) / 2
	if w, err := c.CheckDescriptors(uint64(DefaultFDReserve + 2*pairs)); w != "" || err != nil {
		t.Fatalf("room for every port: %q %v", w, err)
	}
	if w, err := c.CheckDescriptors(uint64(DefaultFDReserve + 100)); err != nil || !strings.Contains(w, "refused by descriptors first (about 25 concurrent calls)") {
		t.Fatalf("fewer descriptors than ports: %q %v", w, err)
	}
	if _, err := c.CheckDescriptors(100); err == nil || !strings.Contains(err.Error(), "x.yaml: overload.fd_reserve: 1 calls need 260 descriptors") {
		t.Fatalf("below the reserve: %v", err)
	}
	c, err = parse("x.yaml", []byte(strings.Replace(base, "media:", "calls:\n  max_calls: 1000\nmedia:", 1)), pw)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := c.CheckDescriptors(1024); err == nil || !strings.Contains(err.Error(), "x.yaml:5: calls.max_calls: 1000 calls need 4256 descriptors") {
		t.Fatalf("max_calls beyond the limit: %v", err)
	}
}
