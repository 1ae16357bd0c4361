package b2bua

import (
	"net/netip"
	"testing"

	"github.com/emiago/sipgo/sip"
)

// TestGINContact: the bulk number contact (RFC 6140 §5.1) has no user
// part and the bnc parameter, and leaves the contact it was made from
// untouched.
func TestGINContact(t *testing.T) {
	for _, tc := range []struct {
		network, want string
	}{
		{"UDP", "<sip:127.0.0.1:5060;bnc>"},
		{"TCP", "<sip:127.0.0.1:5060;transport=tcp;bnc>"},
	} {
		base := contactFor(listener{network: tc.network, addr: netip.MustParseAddrPort("127.0.0.1:5060")})
		base.User = "acct"
		before := base.String()
		h := sip.ContactHeader{Address: ginContact(base)}
		if got := h.Value(); got != tc.want {
			t.Errorf("%s: Contact %s, want %s", tc.network, got, tc.want)
		}
		if base.String() != before {
			t.Errorf("%s: the original contact changed to %s", tc.network, base.String())
		}
	}
}
