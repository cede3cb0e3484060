// Command loglab is the command line of loglab: the simulator, the scenario
// library, and (as issues land) the broker, clients, benchmarks and reports.
// The command names are a contract (DESIGN §7).
//
// This package runs outside the simulator: it may read the wall clock (to
// report wall_seconds), touch files and start processes.
package main

import (
	"errors"
	"fmt"
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
	root.AddCommand(newCheckCmd())
	return root
}
