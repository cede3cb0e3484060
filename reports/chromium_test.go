package reports

import (
	"bytes"
	"context"
	"image/png"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strconv"
	"testing"
	"time"
)

// chromium finds a headless-capable Chromium; without one the test is
// skipped, except in CI (CI=true), which installs it and must run it.
func chromium(t *testing.T) string {
	for _, name := range []string{"chromium", "chromium-browser", "google-chrome"} {
		if p, err := exec.LookPath(name); err == nil {
			return p
		}
	}
	if os.Getenv("CI") == "true" {
		t.Fatal("Chromium is not installed; CI installs it (apt-get install chromium)")
	}
	t.Skip("Chromium is not installed (apt-get install chromium)")
	return ""
}

// headless runs Chromium headless on a local file with the flags that
// keep it off this machine's closed network.
func headless(t *testing.T, bin string, args ...string) []byte {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 90*time.Second)
	defer cancel()
	base := []string{"--headless", "--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
		"--disable-background-networking", "--disable-component-update", "--disable-sync", "--hide-scrollbars",
		"--user-data-dir=" + t.TempDir()}
	cmd := exec.CommandContext(ctx, bin, append(base, args...)...)
	var stderr bytes.Buffer
	cmd.Stderr = &stderr
	out, err := cmd.Output()
	if err != nil {
		t.Fatalf("chromium %v: %v\n%s", args, err, stderr.Bytes())
	}
	return out
}

// The report opened in headless Chromium renders every plot: the page's
// own check counts the plot images the browser decoded (data-plots-
// rendered on <body>), and a screenshot of the page shows the plots'
// lines in their palette colours. LOGLAB_SCREENSHOT=FILE keeps the
// screenshot.
func TestReportRendersInChromium(t *testing.T) {
	bin := chromium(t)
	set, err := Read("testdata/results")
	if err != nil {
		t.Fatal(err)
	}
	plots, err := set.Plots()
	if err != nil {
		t.Fatal(err)
	}
	var html bytes.Buffer
	if err := WriteHTML(&html, "loglab report", set, plots); err != nil {
		t.Fatal(err)
	}
	dir := t.TempDir()
	page := filepath.Join(dir, "index.html")
	if err := os.WriteFile(page, html.Bytes(), 0o644); err != nil {
		t.Fatal(err)
	}
	url := "file://" + page

	plotCounts := func(url string) (int, int) {
		dom := headless(t, bin, "--virtual-time-budget=10000", "--dump-dom", url)
		m := regexp.MustCompile(`<body data-plots="(\d+)" data-plots-rendered="(\d+)"`).FindSubmatch(dom)
		if m == nil {
			t.Fatalf("the page's check did not run: no data-plots on <body> in the rendered DOM (%d bytes)", len(dom))
		}
		n, _ := strconv.Atoi(string(m[1]))
		rendered, _ := strconv.Atoi(string(m[2]))
		return n, rendered
	}
	if n, rendered := plotCounts(url); n != len(plots) || rendered != n {
		t.Fatalf("%d plots in the page, %d rendered by Chromium; want %d of %d", n, rendered, len(plots), len(plots))
	}
	// The check can fail: a page whose first plot is not an image counts
	// one plot fewer rendered.
	broken := bytes.Replace(html.Bytes(), []byte("data:image/svg+xml;base64,"), []byte("data:image/svg+xml;base64,AAAA"), 1)
	brokenPage := filepath.Join(dir, "broken.html")
	if err := os.WriteFile(brokenPage, broken, 0o644); err != nil {
		t.Fatal(err)
	}
	if n, rendered := plotCounts("file://" + brokenPage); n != len(plots) || rendered != n-1 {
		t.Fatalf("a page with one broken plot: %d of %d rendered, want %d", rendered, n, len(plots)-1)
	}

	shot := filepath.Join(dir, "shot.png")
	headless(t, bin, "--window-size=1280,7000", "--screenshot="+shot, url)
	f, err := os.Open(shot)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	img, err := png.Decode(f)
	if err != nil {
		t.Fatalf("screenshot: %v", err)
	}
	if keep := os.Getenv("LOGLAB_SCREENSHOT"); keep != "" {
		data, _ := os.ReadFile(shot)
		os.WriteFile(keep, data, 0o644)
	}
	// Pixels of the first three palette colours (the runs' and the
	// percentiles' lines, the bars of the simulator's speed), and rows that
	// are not blank.
	counts := make([]int, 3)
	ink := 0
	b := img.Bounds()
	for y := b.Min.Y; y < b.Max.Y; y++ {
		rowInk := false
		for x := b.Min.X; x < b.Max.X; x++ {
			r, g, bl, _ := img.At(x, y).RGBA()
			r, g, bl = r>>8, g>>8, bl>>8
			if r < 240 || g < 240 || bl < 240 {
				rowInk = true
			}
			for i := range counts {
				c := palette[i]
				if near(r, c.R) && near(g, c.G) && near(bl, c.B) {
					counts[i]++
				}
			}
		}
		if rowInk {
			ink++
		}
	}
	for i, c := range counts {
		if c < 150 {
			t.Errorf("palette colour %d (%v): %d pixels in the screenshot; the plots did not draw", i, palette[i], c)
		}
	}
	// Every plot is about 400 pixels high: its rows are not blank.
	if ink < 300*len(plots) {
		t.Errorf("only %d rows of the screenshot have anything on them; %d plots should fill %d", ink, len(plots), 300*len(plots))
	}
}

func near(v uint32, c uint8) bool { return v+12 >= uint32(c) && v <= uint32(c)+12 }
