package reports

import (
	"bytes"
	"os"
	"path/filepath"
)

// WriteFiles writes the HTML report to out and summary.md (and, with seed
// sweeps, junit.xml) beside it; it returns the files written.
func WriteFiles(set Set, title, out string) ([]string, error) {
	plots, err := set.Plots()
	if err != nil {
		return nil, err
	}
	var html bytes.Buffer
	if err := WriteHTML(&html, title, set, plots); err != nil {
		return nil, err
	}
	if err := os.MkdirAll(filepath.Dir(out), 0o755); err != nil {
		return nil, err
	}
	if err := os.WriteFile(out, html.Bytes(), 0o644); err != nil {
		return nil, err
	}
	files := []string{out}
	md := filepath.Join(filepath.Dir(out), "summary.md")
	if err := os.WriteFile(md, []byte(Markdown(title, set)), 0o644); err != nil {
		return nil, err
	}
	files = append(files, md)
	if len(set.Sweeps) > 0 {
		var x bytes.Buffer
		if err := JUnit(&x, set.Sweeps); err != nil {
			return nil, err
		}
		junit := filepath.Join(filepath.Dir(out), "junit.xml")
		if err := os.WriteFile(junit, x.Bytes(), 0o644); err != nil {
			return nil, err
		}
		files = append(files, junit)
	}
	return files, nil
}
