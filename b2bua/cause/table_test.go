package cause

import (
	"strings"
	"testing"
)

// rfc3398ToSIP is RFC 3398 §7.2.4.1 as published (29 corrected, see
// table.go), typed in again independently of table.go.
var rfc3398ToSIP = map[int]int{
	1: 404, 2: 404, 3: 404, 17: 486, 18: 408, 19: 480, 20: 480, 21: 403,
	22: 410, 23: 410, 26: 404, 27: 502, 28: 484, 29: 501, 31: 480,
	34: 503, 38: 503, 41: 503, 42: 503, 47: 503,
	55: 403, 57: 403, 58: 503,
	65: 488, 70: 488, 79: 501,
	87: 403, 88: 503,
	102: 504, 111: 500,
	127: 500,
}

// rfc3398FromSIP is RFC 3398 §8.2.6.1 as published (505 corrected), with
// the rows the RFC leaves open (487, 488, 606) as this package decides.
var rfc3398FromSIP = map[int]int{
	400: 41, 401: 21, 402: 21, 403: 21, 404: 1, 405: 63, 406: 79, 407: 21,
	408: 102, 410: 22, 413: 127, 414: 127, 415: 79, 416: 127, 420: 127,
	421: 127, 423: 127, 480: 18, 481: 41, 482: 25, 483: 25, 484: 28,
	485: 1, 486: 17, 487: 16, 488: 65,
	500: 41, 501: 79, 502: 38, 503: 41, 504: 102, 505: 127, 513: 127,
	600: 17, 603: 21, 604: 1, 606: 65,
}

func TestToSIPListedRows(t *testing.T) {
	for q, want := range rfc3398ToSIP {
		if got := ToSIP(q); got != want {
			t.Errorf("ToSIP(%d) = %d, want %d (RFC 3398 §7.2.4.1)", q, got, want)
		}
		if _, src, _ := ExplainToSIP(q); src != SourceRFC3398 && src != SourceErratum {
			t.Errorf("ExplainToSIP(%d) source = %v, want an RFC 3398 row", q, src)
		}
	}
	// Every row of table.go with a status is one of the RFC's rows.
	for q, row := range q850Causes {
		if row.status != 0 {
			if _, ok := rfc3398ToSIP[q]; !ok {
				t.Errorf("table.go maps cause %d to %d, which RFC 3398 §7.2.4.1 does not list", q, row.status)
			}
		}
	}
}

func TestToSIPClassDefaults(t *testing.T) {
	tests := []struct {
		q850, want int
		src        Source
	}{
		{4, 480, SourceDefault},   // defined, not listed: normal class
		{16, 480, SourceChoice},   // normal clearing as a failure
		{25, 480, SourceDefault},  // exchange routing error
		{30, 480, SourceDefault},  // response to STATUS ENQUIRY
		{11, 480, SourceDefault},  // undefined value in class 000
		{44, 503, SourceDefault},  // resource unavailable class
		{45, 503, SourceDefault},  // undefined, class 010
		{50, 503, SourceDefault},  // service or option not available
		{63, 503, SourceDefault},  // its unspecified value
		{66, 501, SourceDefault},  // not implemented class
		{69, 501, SourceDefault},  //
		{81, 500, SourceDefault},  // invalid message class
		{95, 500, SourceDefault},  // its unspecified value
		{96, 500, SourceDefault},  // protocol error class
		{103, 500, SourceDefault}, //
		{110, 500, SourceDefault}, //
		{112, 500, SourceDefault}, // interworking class
		{126, 500, SourceDefault}, //
		{0, 500, SourceNone},      // not a cause value
		{-1, 500, SourceNone},
		{128, 500, SourceNone},
		{1 << 40, 500, SourceNone},
	}
	for _, tt := range tests {
		got, src, _ := ExplainToSIP(tt.q850)
		if got != tt.want || src != tt.src {
			t.Errorf("ExplainToSIP(%d) = %d, %v; want %d, %v", tt.q850, got, src, tt.want, tt.src)
		}
	}
	// Every value maps to a final failure status.
	for q := -2; q <= 130; q++ {
		if s := ToSIP(q); s < 400 || s > 699 {
			t.Errorf("ToSIP(%d) = %d, not a failure status", q, s)
		}
	}
}

func TestFromSIPListedRows(t *testing.T) {
	for s, want := range rfc3398FromSIP {
		if got := FromSIP(s); got != want {
			t.Errorf("FromSIP(%d) = %d, want %d (RFC 3398 §8.2.6.1)", s, got, want)
		}
	}
	for s := range sipStatuses {
		if _, ok := rfc3398FromSIP[s]; !ok {
			t.Errorf("table.go maps status %d, which the test's copy of RFC 3398 §8.2.6.1 lacks", s)
		}
	}
}

func TestFromSIPDefaults(t *testing.T) {
	tests := []struct {
		status, want int
		src          Source
	}{
		{200, 16, SourceChoice},
		{202, 16, SourceChoice},
		{299, 16, SourceChoice},
		{409, 31, SourceDefault}, // 4xx not listed
		{422, 31, SourceDefault},
		{489, 31, SourceDefault},
		{491, 31, SourceDefault},
		{494, 31, SourceDefault},
		{499, 31, SourceDefault},
		{580, 31, SourceDefault}, // 5xx not listed
		{599, 31, SourceDefault},
		{607, 31, SourceDefault}, // 6xx not listed
		{699, 31, SourceDefault},
		{180, 31, SourceDefault}, // not a final status
		{302, 31, SourceDefault}, // redirection the B2BUA did not follow
		{0, 31, SourceDefault},
		{-5, 31, SourceDefault},
		{1000, 31, SourceDefault},
	}
	for _, tt := range tests {
		got, src, _ := ExplainFromSIP(tt.status)
		if got != tt.want || src != tt.src {
			t.Errorf("ExplainFromSIP(%d) = %d, %v; want %d, %v", tt.status, got, src, tt.want, tt.src)
		}
	}
}

// TestNotes checks that every row that departs from or fills in RFC 3398
// says why, and that only those rows carry notes about it.
func TestNotes(t *testing.T) {
	for q, row := range q850Causes {
		if (row.src == SourceChoice || row.src == SourceErratum) && row.note == "" {
			t.Errorf("cause %d: %v row without a note", q, row.src)
		}
		if row.name == "" && (row.status != 0 || row.src != SourceNone) {
			t.Errorf("cause %d: row without a name", q)
		}
		if row.status != 0 && (row.status < 400 || row.status > 699) {
			t.Errorf("cause %d: status %d is not a failure status", q, row.status)
		}
	}
	for s, row := range sipStatuses {
		if (row.src == SourceChoice || row.src == SourceErratum) && row.note == "" {
			t.Errorf("status %d: %v row without a note", s, row.src)
		}
		if !Known(row.cause) {
			t.Errorf("status %d: cause %d is not a defined Q.850 cause", s, row.cause)
		}
	}
}

// TestRoundTrip checks the causes a B2BUA meets most survive SIP → Q.850
// → SIP unchanged.
func TestRoundTrip(t *testing.T) {
	for _, s := range []int{403, 404, 408, 410, 480, 484, 486, 488, 501, 502, 503, 504} {
		var want = s
		switch s {
		case 408:
			want = 504 // 102 "Recovery on timer expiry" is a gateway timeout
		case 480:
			want = 408 // 18 "No user responding"
		case 502:
			want = 503 // 38 "Network out of order"
		}
		if got := ToSIP(FromSIP(s)); got != want {
			t.Errorf("ToSIP(FromSIP(%d)) = %d, want %d", s, got, want)
		}
	}
}

func TestName(t *testing.T) {
	tests := []struct {
		q850 int
		want string
	}{
		{1, "Unallocated (unassigned) number"},
		{16, "Normal call clearing"},
		{17, "User busy"},
		{18, "No user responding"},
		{19, "No answer from user (user alerted)"},
		{21, "Call rejected"},
		{31, "Normal, unspecified"},
		{34, "No circuit/channel available"},
		{41, "Temporary failure"},
		{102, "Recovery on timer expiry"},
		{127, "Interworking, unspecified"},
		{45, "Cause 45 (resource unavailable)"},
		{120, "Cause 120 (interworking)"},
		{0, "Cause 0"},
		{200, "Cause 200"},
	}
	for _, tt := range tests {
		if got := Name(tt.q850); got != tt.want {
			t.Errorf("Name(%d) = %q, want %q", tt.q850, got, tt.want)
		}
	}
	defined := 0
	for q := 1; q <= MaxCause; q++ {
		if Known(q) {
			defined++
			if strings.HasPrefix(Name(q), "Cause ") {
				t.Errorf("Name(%d) = %q for a defined cause", q, Name(q))
			}
		}
	}
	// ITU-T Q.850 with its amendments defines 70 cause values (14 "QoR:
	// ported number" included).
	if defined != 70 {
		t.Errorf("%d defined causes, want 70", defined)
	}
}

func TestSourceString(t *testing.T) {
	for s, want := range map[Source]string{
		SourceNone: "none", SourceRFC3398: "rfc3398", SourceErratum: "rfc3398-erratum",
		SourceChoice: "choice", SourceDefault: "default", Source(99): "none",
	} {
		if got := s.String(); got != want {
			t.Errorf("Source(%d).String() = %q, want %q", s, got, want)
		}
	}
}
