// Command loglab is the command line of loglab: the simulator, the scenario
// library, and (as issues land) the broker, clients, benchmarks and reports.
// The command names are a contract (docs/ARCHITECTURE.md §6).
//
// This package runs outside the simulator: it may read the wall clock (to
// report wall_seconds), touch files and start processes.
package main

import (
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"os"

	"github.com/spf13/cobra"
)

func main() {
	root := newRoot()
	if err := root.Execute(); err != nil {
		var ex exitError
		if errors.As(err, &ex) {
			os.Exit(ex.code)
		}
		fmt.Fprintln(os.Stderr, "loglab:", err)
		os.Exit(2)
	}
}

// exitError ends the process with a code after the command has already
// printed what it had to say (a failed expectation is not a usage error).
type exitError struct{ code int }

func (e exitError) Error() string { return fmt.Sprintf("exit status %d", e.code) }

func newRoot() *cobra.Command {
	root := &cobra.Command{
		Use:   "loglab",
		Short: "A Kafka-compatible log, a deterministic simulator, and a testbed for durability claims",
		Long: `loglab runs a Kafka-compatible partitioned log in two worlds: on real sockets
and files, and inside a deterministic simulator that injects crashes, partitions
and disk faults. One seed replays one simulated run bit for bit.`,
		Example:       "  loglab demo\n  loglab scenario list\n  loglab sim run --scenario log-crash --seed 7 --json",
		SilenceUsage:  true,
		SilenceErrors: true,
	}
	root.CompletionOptions.DisableDefaultCmd = true
	root.AddCommand(newDemoCmd(), newScenarioCmd(), newSimCmd(),
		newBrokerCmd(), newClusterCmd(), newTopicCmd(), newProduceCmd(), newConsumeCmd(), newGroupCmd(), newBenchCmd(), newReportCmd())
	root.AddCommand(newCheckCmd(), newBugzooCmd())
	return root
}

// printJSON prints v as indented JSON (bench's reports).
func printJSON(w io.Writer, v any) error {
	enc := json.NewEncoder(w)
	enc.SetIndent("", "  ")
	return enc.Encode(v)
}

// emit prints v as one JSON object (asJSON) or as text, then ends the
// process with status 1 when failed (after the output: a failed
// expectation is not a usage error).
func emit(out io.Writer, asJSON bool, v any, text func(io.Writer), failed bool) error {
	if asJSON {
		if err := json.NewEncoder(out).Encode(v); err != nil {
			return err
		}
	} else {
		text(out)
	}
	if failed {
		return exitError{1}
	}
	return nil
}

// missingSubcommand is the RunE of a command that only groups others.
func missingSubcommand(try string) func(*cobra.Command, []string) error {
	return func(*cobra.Command, []string) error { return fmt.Errorf("missing subcommand (try: %s)", try) }
}
