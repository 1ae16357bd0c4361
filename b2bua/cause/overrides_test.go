package cause

import (
	"errors"
	"strings"
	"testing"

	"gopkg.in/yaml.v3"
)

func TestNewOverridesFromYAML(t *testing.T) {
	const doc = `
q850_to_sip: {34: 480, "21": 603}
sip_to_q850: {486: 17, 503: 34, 5xx: 38, 6XX: 21}
`
	var cfg Config
	if err := yaml.Unmarshal([]byte(doc), &cfg); err != nil {
		t.Fatal(err)
	}
	o, err := NewOverrides(cfg)
	if err != nil {
		t.Fatal(err)
	}
	toSIP := []struct{ q850, want int }{
		{34, 480}, // override
		{21, 603}, // override: cause location "user"
		{17, 486}, // table
		{45, 503}, // class default
	}
	for _, tt := range toSIP {
		if got := o.ToSIP(tt.q850); got != tt.want {
			t.Errorf("ToSIP(%d) = %d, want %d", tt.q850, got, tt.want)
		}
	}
	fromSIP := []struct{ status, want int }{
		{486, 17}, // status entry
		{503, 34}, // status entry beats class entry
		{500, 38}, // class entry beats table
		{580, 38}, // class entry
		{603, 21}, // class entry
		{404, 1},  // table
		{499, 31}, // default
		{200, 16}, // 2xx untouched by classes
	}
	for _, tt := range fromSIP {
		if got := o.FromSIP(tt.status); got != tt.want {
			t.Errorf("FromSIP(%d) = %d, want %d", tt.status, got, tt.want)
		}
	}
	if got, want := o.ForStatus(500).String(), `Q.850;cause=38;text="Network out of order"`; got != want {
		t.Errorf("ForStatus(500) = %q, want %q", got, want)
	}
	trunk := []Reason{SIP(503, ""), Q850(34)}
	if got := o.RelayStatus(503, trunk); got != 480 {
		t.Errorf("RelayStatus(503, Q.850 34) = %d, want 480 (override)", got)
	}
	if got := o.RelayStatus(503, []Reason{Q850(41)}); got != 503 {
		t.Errorf("RelayStatus(503, Q.850 41) = %d, want 503 (kept)", got)
	}
	if got := o.RelayStatus(486, nil); got != 486 {
		t.Errorf("RelayStatus(486, none) = %d, want 486", got)
	}
	if c, from := o.FromResponse(500, nil); c != 38 || from {
		t.Errorf("FromResponse(500, none) = %d, %v; want 38 from the override", c, from)
	}
	if c, from := o.FromResponse(500, trunk); c != 34 || !from {
		t.Errorf("FromResponse(500, Q.850 34) = %d, %v; want 34 from the Reason", c, from)
	}
}

func TestNilOverrides(t *testing.T) {
	var o *Overrides
	for q := 0; q <= 128; q++ {
		if o.ToSIP(q) != ToSIP(q) {
			t.Fatalf("nil Overrides changes ToSIP(%d)", q)
		}
	}
	for s := 100; s <= 699; s++ {
		if o.FromSIP(s) != FromSIP(s) {
			t.Fatalf("nil Overrides changes FromSIP(%d)", s)
		}
	}
	if o.RelayStatus(503, []Reason{Q850(34)}) != 503 {
		t.Error("nil Overrides changes RelayStatus")
	}
	if c, _ := o.FromResponse(486, nil); c != 17 {
		t.Errorf("nil Overrides FromResponse(486) = %d", c)
	}
	var zero Overrides
	if zero.ToSIP(34) != 503 || zero.FromSIP(486) != 17 || zero.ForStatus(404).Cause != 1 {
		t.Error("zero Overrides changes the table")
	}
	empty, err := NewOverrides(Config{})
	if err != nil || empty.ToSIP(34) != 503 || empty.FromSIP(503) != 41 {
		t.Errorf("empty Config: %v", err)
	}
}

func TestNewOverridesErrors(t *testing.T) {
	tests := []struct {
		cfg  Config
		want []string
	}{
		{Config{Q850ToSIP: map[string]int{"abc": 503}}, []string{`q850_to_sip: key "abc": not a Q.850 cause value`}},
		{Config{Q850ToSIP: map[string]int{"0": 503}}, []string{`key "0"`}},
		{Config{Q850ToSIP: map[string]int{"128": 503}}, []string{`key "128"`}},
		{Config{Q850ToSIP: map[string]int{"34": 200}}, []string{`q850_to_sip: key "34": value 200: not a SIP failure status`}},
		{Config{Q850ToSIP: map[string]int{"34": 700}}, []string{`value 700`}},
		{Config{Q850ToSIP: map[string]int{"34": 503, " 34": 480}}, []string{`key "34": cause 34 given twice`}},
		{Config{SIPToQ850: map[string]int{"486x": 17}}, []string{`sip_to_q850: key "486x": not a SIP status (400-699) or class (4xx, 5xx, 6xx)`}},
		{Config{SIPToQ850: map[string]int{"200": 16}}, []string{`key "200"`}},
		{Config{SIPToQ850: map[string]int{"3xx": 16}}, []string{`key "3xx"`}},
		{Config{SIPToQ850: map[string]int{"486": 0}}, []string{`sip_to_q850: key "486": value 0: not a Q.850 cause value`}},
		{Config{SIPToQ850: map[string]int{"486": 200}}, []string{`value 200`}},
		{Config{SIPToQ850: map[string]int{"5xx": 41, "5XX": 38}}, []string{`class 5xx given twice`}},
		{Config{SIPToQ850: map[string]int{"486": 17, "486 ": 18}}, []string{`status 486 given twice`}},
		{Config{ // every bad key is reported, sorted
			Q850ToSIP: map[string]int{"x": 1, "y": 2, "34": 503},
			SIPToQ850: map[string]int{"999": 1},
		}, []string{`key "x"`, `key "y"`, `key "999"`}},
	}
	for _, tt := range tests {
		o, err := NewOverrides(tt.cfg)
		if err == nil {
			t.Errorf("NewOverrides(%+v) = %v, want an error", tt.cfg, o)
			continue
		}
		msg := err.Error()
		last := -1
		for _, w := range tt.want {
			i := strings.Index(msg, w)
			if i < 0 {
				t.Errorf("NewOverrides(%+v): %q, want it to mention %q", tt.cfg, msg, w)
			} else if i < last {
				t.Errorf("NewOverrides(%+v): %q not sorted by key", tt.cfg, msg)
			}
			last = i
		}
		if n := len(tt.want); n > 1 {
			var joined interface{ Unwrap() []error }
			if !errors.As(err, &joined) || len(joined.Unwrap()) != n {
				t.Errorf("NewOverrides(%+v): want %d joined errors, got %q", tt.cfg, n, msg)
			}
		}
	}
}
