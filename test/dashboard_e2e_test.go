package test

import (
	"context"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strconv"
	"strings"
	"testing"
	"time"
)

// TestDashboardInChromium: the live dashboard, loaded in headless
// Chromium with the API token in its URL fragment, shows a running call
// (its dialled number) with a MOS for its legs while the call's audio
// flows; a screenshot is kept in test/artifacts (SB_ARTIFACTS).
func TestDashboardInChromium(t *testing.T) {
	requireTool(t, "sipp")
	chromium := requireTool(t, "chromium")
	dir := t.TempDir()
	uasPort := 15000 + 10*instance()
	apiAddr := fmt.Sprintf("127.0.0.1:%d", 15000+10*instance())
	sb := trunkSetup(t, uasPort, SBOptions{Extra: "api:\n  listen: " + apiAddr + "\n"})
	raw, err := os.ReadFile(filepath.Join(sb.Dir, "state", "api_token"))
	if err != nil {
		t.Fatal(err)
	}
	token := strings.TrimSpace(string(raw))
	startSipp(t, dir, "-sf", scenario(t, "uas_trunk_echo.xml"), "-i", "127.0.0.2", "-p", strconv.Itoa(uasPort),
		"-mi", "127.0.0.2", "-mp", strconv.Itoa(uasPort+2), "-rtp_echo")
	waitPort(t, "udp", fmt.Sprintf("127.0.0.2:%d", uasPort))
	done := make(chan Sipp, 1)
	go func() {
		done <- runSipp(t, dir, 60*time.Second, "-sf", scenario(t, "uac_auth_pcap.xml"), sb.Addr(),
			"-i", "127.0.0.3", "-p", strconv.Itoa(uasPort+4), "-mi", "127.0.0.3", "-mp", strconv.Itoa(uasPort+6),
			"-s", "95551234", "-key", "user", "1000", "-au", "1000", "-ap", sb.Users["1000"], "-m", "1")
	}()
	if !sb.waitOutput("msg=answered", 10*time.Second) {
		t.Fatal("the call was not answered within 10s")
	}
	time.Sleep(time.Second) // let the call's quality build up

	url := "http://" + apiAddr + "/#token=" + token
	browse := func(args ...string) string {
		profile, err := os.MkdirTemp(dir, "chromium-")
		if err != nil {
			t.Error(err)
			return ""
		}
		ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
		defer cancel()
		base := []string{"--headless", "--no-sandbox", "--disable-gpu", "--disable-dev-shm-usage", "--no-first-run",
			"--user-data-dir=" + profile, "--virtual-time-budget=2500", "--window-size=1280,900"}
		out, err := exec.CommandContext(ctx, chromium, append(append(base, args...), url)...).Output()
		if err != nil {
			t.Errorf("chromium %v: %v", args, err)
		}
		return string(out)
	}
	art := os.Getenv("SB_ARTIFACTS")
	if art == "" {
		art = "artifacts"
	}
	if err := os.MkdirAll(art, 0o755); err != nil {
		t.Fatal(err)
	}
	shot, _ := filepath.Abs(filepath.Join(art, "dashboard.png"))
	shotDone := make(chan struct{})
	go func() { defer close(shotDone); browse("--screenshot=" + shot) }() // while the call is up
	// On a loaded machine the page's first API round may not fit the
	// virtual-time budget: look again (bounded) before judging.
	row := regexp.MustCompile(`<td class="dialled">95551234</td>`)
	dom := browse("--dump-dom")
	for try := 0; try < 2 && !row.MatchString(dom); try++ {
		dom = browse("--dump-dom")
	}
	<-shotDone
	if !regexp.MustCompile(`<td class="dialled">95551234</td>`).MatchString(dom) {
		t.Errorf("the dashboard does not show the running call to 95551234:\n%s", tail(dom, 3000))
	}
	m := regexp.MustCompile(`<td class="mos[^"]*">([0-9.]+) / ([0-9.]+)</td>`).FindStringSubmatch(dom)
	if m == nil {
		t.Errorf("no MOS for both legs of the call:\n%s", tail(dom, 3000))
	} else {
		for _, v := range m[1:] {
			if f, _ := strconv.ParseFloat(v, 64); f < 3.5 || f > 4.6 {
				t.Errorf("MOS %s on a clean loopback call, want 3.5..4.6", v)
			}
		}
	}
	if !strings.Contains(dom, `id="calls">1<`) {
		t.Errorf("the calls card does not say 1")
	}
	if !strings.Contains(dom, `id="error"></p>`) {
		t.Errorf("the page shows an error:\n%s", tail(dom, 3000))
	}

	if fi, err := os.Stat(shot); err != nil || fi.Size() < 5000 {
		t.Errorf("no screenshot at %s: %v", shot, err)
	} else {
		t.Logf("dashboard screenshot: %s", shot)
	}
	if r := <-done; r.Stats.Successful != 1 {
		t.Errorf("the call failed: %v\n%s", r.Err, tail(r.Out, 2000))
	}
}
