package config

import (
	"strings"
	"testing"
)

// TestTrunkCauses: a trunk's cause overrides are built once by Validate,
// and each bad entry is reported with its file line and full key.
func TestTrunkCauses(t *testing.T) {
	good := strings.Replace(base, "    trusted: [127.0.0.2/32]\n",
		"    trusted: [127.0.0.2/32]\n    causes:\n      q850_to_sip: {\"34\": 486}\n      sip_to_q850: {\"503\": 41, \"6xx\": 21}\n", 1)
	cfg, err := parse("configs/x.yaml", []byte(good), env(nil))
	if err != nil {
		t.Fatal(err)
	}
	o := cfg.Trunks[0].CauseOverrides
	if o == nil {
		t.Fatal("CauseOverrides not built")
	}
	if got := o.FromSIP(503); got != 41 {
		t.Errorf("FromSIP(503) = %d, want 41", got)
	}
	if got := o.FromSIP(604); got != 21 {
		t.Errorf("FromSIP(604) = %d, want 21 (class 6xx)", got)
	}
	if got := o.ToSIP(34); got != 486 {
		t.Errorf("ToSIP(34) = %d, want 486", got)
	}
	plain, err := parse("configs/x.yaml", []byte(base), env(nil))
	if err != nil {
		t.Fatal(err)
	}
	if plain.Trunks[0].CauseOverrides != nil {
		t.Error("CauseOverrides built for a trunk without causes")
	}

	bad := strings.Replace(base, "    trusted: [127.0.0.2/32]\n",
		"    trusted: [127.0.0.2/32]\n    causes:\n      q850_to_sip: {\"200\": 486, \"34\": 200}\n      sip_to_q850: {\"486x\": 17}\n", 1)
	_, err = parse("configs/x.yaml", []byte(bad), env(nil))
	if err == nil {
		t.Fatal("bad causes accepted")
	}
	for _, w := range []string{
		`trunks[0].causes.q850_to_sip: key "200": not a Q.850 cause value`,
		`trunks[0].causes.q850_to_sip: key "34": value 200: not a SIP failure status`,
		`trunks[0].causes.sip_to_q850: key "486x": not a SIP status`,
	} {
		if !strings.Contains(err.Error(), w) {
			t.Errorf("error lacks %q:\n%v", w, err)
		}
	}
}
