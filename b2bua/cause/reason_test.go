package cause

import (
	"errors"
	"reflect"
	"strings"
	"testing"
)

func TestParseReason(t *testing.T) {
	tests := []struct {
		in   string
		want []Reason
	}{
		{`Q.850;cause=16;text="Normal call clearing"`,
			[]Reason{{Protocol: "Q.850", Cause: 16, Text: "Normal call clearing"}}},
		{`SIP ;cause=200 ;text="Call completed elsewhere"`, // RFC 3326 §2 spacing
			[]Reason{{Protocol: "SIP", Cause: 200, Text: "Call completed elsewhere"}}},
		{`q.850 ; TEXT = "User busy" ; Cause = 17`, // any case, any order, LWS
			[]Reason{{Protocol: "Q.850", Cause: 17, Text: "User busy"}}},
		{"\tsip;cause=486\t", []Reason{{Protocol: "SIP", Cause: 486}}},
		{`Q.850`, []Reason{{Protocol: "Q.850"}}},
		{`Q.850;cause=016`, []Reason{{Protocol: "Q.850", Cause: 16}}},
		{`Q.850;cause=0`, []Reason{{Protocol: "Q.850"}}},
		{`SIP;cause=600;text="Busy Everywhere", Q.850;cause=17`,
			[]Reason{{Protocol: "SIP", Cause: 600, Text: "Busy Everywhere"}, {Protocol: "Q.850", Cause: 17}}},
		{`SIP;text="a, b; c=d";cause=480,Q.850;cause=18`, // separators inside quotes
			[]Reason{{Protocol: "SIP", Cause: 480, Text: "a, b; c=d"}, {Protocol: "Q.850", Cause: 18}}},
		{`Q.850;cause=16;text="say \"bye\" \\ now"`,
			[]Reason{{Protocol: "Q.850", Cause: 16, Text: `say "bye" \ now`}}},
		{`Q.850;cause=16;text=Terminated`, // token instead of quoted-string
			[]Reason{{Protocol: "Q.850", Cause: 16, Text: "Terminated"}}},
		{`Q.850;cause=16;text=""`, []Reason{{Protocol: "Q.850", Cause: 16}}},
		{`Q.850;cause=16;text="Anruf beendet – normal"`, // UTF-8 kept
			[]Reason{{Protocol: "Q.850", Cause: 16, Text: "Anruf beendet – normal"}}},
		{`Q.850;cause=31;location=LN;x-flag;x-q="a;b";host=[2001:db8::1]`,
			[]Reason{{Protocol: "Q.850", Cause: 31, Params: []Param{
				{"location", "LN"}, {"x-flag", ""}, {"x-q", `"a;b"`}, {"host", "[2001:db8::1]"}}}}},
		{`X-Vendor;cause=999`, // unknown protocol: any 3 digits
			[]Reason{{Protocol: "X-Vendor", Cause: 999}}},
		{` , Q.850;cause=16 ,, `, []Reason{{Protocol: "Q.850", Cause: 16}}},
		{`preemption;cause=1;text="UA preemption"`, // RFC 4411 protocol
			[]Reason{{Protocol: "preemption", Cause: 1, Text: "UA preemption"}}},
	}
	for _, tt := range tests {
		got, err := ParseReason(tt.in)
		if err != nil {
			t.Errorf("ParseReason(%q): %v", tt.in, err)
			continue
		}
		if !reflect.DeepEqual(got, tt.want) {
			t.Errorf("ParseReason(%q) = %#v, want %#v", tt.in, got, tt.want)
		}
	}
}

func TestParseReasonErrors(t *testing.T) {
	tests := []struct{ in, want string }{
		{``, "no reason-value"},
		{` , `, "no reason-value"},
		{`;cause=16`, "missing protocol"},
		{`"Q.850";cause=16`, "missing protocol"},
		{`Q.850;`, "missing parameter name"},
		{`Q.850;=16`, "missing parameter name"},
		{`Q.850;cause`, `cause ""`},
		{`Q.850;cause=`, "missing value"},
		{`Q.850;cause=abc`, `cause "abc"`},
		{`Q.850;cause=1234`, `cause "1234"`},
		{`Q.850;cause=-1`, `cause "-1"`},
		{`Q.850;cause="16"`, `cause "\"16\""`},
		{`Q.850;cause=128`, "not a Q.850 cause value"},
		{`SIP;cause=99`, "not a SIP status"},
		{`SIP;cause=700`, "not a SIP status"},
		{`Q.850;cause=16;cause=17`, `"cause" repeated`},
		{`Q.850;text="a";text="b"`, `"text" repeated`},
		{`Q.850;text`, `"text" without a value`},
		{`Q.850;text="unterminated`, "unterminated"},
		{`Q.850;text="ends in backslash\`, "unterminated"},
		{"Q.850;text=\"line\r\nInjected: yes\"", "control character"},
		{"Q.850;text=\"esc\\\n\"", "control character"},
		{"Q.850;text=\"nul\x00\"", "control character"},
		{`Q.850 cause=16`, `unexpected 'c'`},
		{`Q.850;cause=16 junk`, `unexpected 'j'`},
		{`Q.850;cause=16;text="a"b`, `unexpected 'b'`},
		{`Q.850;cause=16, SIP;cause=x`, "reason-value 2"},
		{`Q.850;x={}`, "bad value"},
	}
	for _, tt := range tests {
		got, err := ParseReason(tt.in)
		if err == nil {
			t.Errorf("ParseReason(%q) = %#v, want an error", tt.in, got)
			continue
		}
		if !errors.Is(err, ErrMalformed) {
			t.Errorf("ParseReason(%q): %v does not wrap ErrMalformed", tt.in, err)
		}
		if !strings.Contains(err.Error(), tt.want) {
			t.Errorf("ParseReason(%q): %q, want it to mention %q", tt.in, err, tt.want)
		}
	}
}

func TestReasonString(t *testing.T) {
	tests := []struct {
		r    Reason
		want string
	}{
		{NormalClearing(), `Q.850;cause=16;text="Normal call clearing"`},
		{CompletedElsewhere(), `SIP;cause=200;text="Call completed elsewhere"`},
		{Q850(17), `Q.850;cause=17;text="User busy"`},
		{ForStatus(486), `Q.850;cause=17;text="User busy"`},
		{ForStatus(404), `Q.850;cause=1;text="Unallocated (unassigned) number"`},
		{ForStatus(503), `Q.850;cause=41;text="Temporary failure"`},
		{ForStatus(603), `Q.850;cause=21;text="Call rejected"`},
		{ForStatus(480), `Q.850;cause=18;text="No user responding"`},
		{ForStatus(200), `Q.850;cause=16;text="Normal call clearing"`},
		{ForStatus(499), `Q.850;cause=31;text="Normal, unspecified"`},
		{SIP(486, ""), `SIP;cause=486`},
		{Reason{Protocol: "Q.850"}, `Q.850`},
		{Reason{}, `Q.850`},
		{Reason{Protocol: "Q.850 ;x", Cause: 16}, `Q.850x;cause=16`},
		{Reason{Protocol: "SIP", Cause: -3, Text: `a "b" \c`}, `SIP;text="a \"b\" \\c"`},
		{Reason{Protocol: "SIP", Cause: 480, Text: "evil\r\nX-Injected: 1"}, `SIP;cause=480;text="evil  X-Injected: 1"`},
		{Reason{Protocol: "Q.850", Cause: 16, Params: []Param{
			{"location", "LN"}, {"flag", ""}, {"bad name", "x"}, {"badvalue", "a b"},
			{"q", `"x;y"`}, {"unterminated", `"x`}, {"h", "[::1]"}}},
			`Q.850;cause=16;location=LN;flag;q="x;y";h=[::1]`},
	}
	for _, tt := range tests {
		if got := tt.r.String(); got != tt.want {
			t.Errorf("%#v.String() = %q, want %q", tt.r, got, tt.want)
		}
	}
}

func TestFormatOnePerProtocol(t *testing.T) {
	got := Format(Q850(17), SIP(486, "Busy Here"), Reason{Protocol: "q.850", Cause: 34}, SIP(600, ""))
	want := `Q.850;cause=17;text="User busy", SIP;cause=486;text="Busy Here"`
	if got != want {
		t.Errorf("Format = %q, want %q", got, want)
	}
	if got := Format(); got != "" {
		t.Errorf("Format() = %q, want empty", got)
	}
	rs, err := ParseReason(got)
	if err != nil || len(rs) != 2 || rs[0].Cause != 17 || rs[1].Cause != 486 {
		t.Errorf("ParseReason(Format) = %v, %v", rs, err)
	}
}

func TestFindAndFromResponse(t *testing.T) {
	rs, err := ParseReason(`SIP;cause=486, q.850;cause=34;text="No circuit"`)
	if err != nil {
		t.Fatal(err)
	}
	if r, ok := Find(rs, "Q.850"); !ok || r.Cause != 34 {
		t.Errorf("Find Q.850 = %v, %v", r, ok)
	}
	if r, ok := Find(rs, "sip"); !ok || r.Cause != 486 {
		t.Errorf("Find sip = %v, %v", r, ok)
	}
	if _, ok := Find(rs, "preemption"); ok {
		t.Error("Find preemption found one")
	}
	if !rs[1].IsQ850() || rs[1].IsSIP() || !rs[0].IsSIP() {
		t.Errorf("IsQ850/IsSIP wrong for %v", rs)
	}
	tests := []struct {
		status     int
		reasons    []Reason
		want       int
		fromReason bool
	}{
		{503, rs, 34, true},                             // the trunk's cause survives
		{503, nil, 41, false},                           // table
		{486, rs[:1], 17, false},                        // a SIP Reason is no Q.850 cause
		{480, []Reason{{Protocol: "Q.850"}}, 18, false}, // Q.850 without cause
	}
	for _, tt := range tests {
		got, from := FromResponse(tt.status, tt.reasons)
		if got != tt.want || from != tt.fromReason {
			t.Errorf("FromResponse(%d, %v) = %d, %v; want %d, %v", tt.status, tt.reasons, got, from, tt.want, tt.fromReason)
		}
	}
}

// FuzzParseReason checks that ParseReason never panics and that what it
// accepts survives String and a second parse unchanged.
func FuzzParseReason(f *testing.F) {
	for _, s := range []string{
		`Q.850;cause=16;text="Normal call clearing"`,
		`SIP ;cause=200 ;text="Call completed elsewhere"`,
		`SIP;cause=600;text="Busy Everywhere", Q.850;cause=17`,
		`Q.850;cause=31;location=LN;x-flag;x-q="a;b";host=[2001:db8::1]`,
		`q.850 ; TEXT = "a \"b\" \\" ; Cause = 17`,
		`Q.850;text=Terminated`,
		` , Q.850;cause=16 ,, `,
		"Q.850;text=\"\xff\xfe\"",
		`Q.850;cause=`,
	} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, in string) {
		rs, err := ParseReason(in)
		if err != nil {
			if !errors.Is(err, ErrMalformed) {
				t.Fatalf("ParseReason(%q): %v does not wrap ErrMalformed", in, err)
			}
			return
		}
		if len(rs) == 0 {
			t.Fatalf("ParseReason(%q) accepted no values", in)
		}
		for _, r := range rs {
			s := r.String()
			if strings.ContainsAny(s, "\r\n") {
				t.Fatalf("%q formats with a line break: %q", in, s)
			}
			again, err := ParseReason(s)
			if err != nil {
				t.Fatalf("ParseReason(%q) = %#v, whose String %q does not parse: %v", in, r, s, err)
			}
			if len(again) != 1 || !reflect.DeepEqual(again[0], r) {
				t.Fatalf("round trip of %q: %#v → %q → %#v", in, r, s, again)
			}
		}
	})
}
