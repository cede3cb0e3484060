// Package reports turns results into pictures and summaries: latency
// percentile plots (HDR style, log scale), throughput and latency over
// time, one self-contained HTML file (the plots inline as SVG) and a
// Markdown summary fit for a CI step summary.
//
// Ownership and imports: it owns the plots, the report formats and the
// result data types bench reports in (Window, Percentiles: bench uses
// reports' data types). It reads results in their JSON form
// (`loglab bench --out`; BenchResult), imports only gonum/plot and the
// standard library, and no result producer imports it but for the types.
//
// Invariants: output is a pure function of the results (plots have no
// timestamps or random colours), which the golden tests hold it to; a
// directory without results, or a file that is not a result, is an error
// naming the file, and nothing is written.
package reports
