// Command carta renders letter jobs to PDF and runs the Carta service.
//
// Run "carta help" for the list of subcommands.
package main

import (
	"context"
	"fmt"
	"io"
	"os"
	"os/signal"
	"syscall"

	"github.com/carta-letters/carta/renderer"
)

// Exit codes shared by every subcommand.
const (
	exitOK      = 0 // success
	exitFailure = 1 // any failure other than an invalid job
	exitInvalid = 2 // the job is invalid, or the command line is
)

// command is one subcommand of carta.
type command struct {
	name    string
	summary string
	run     func(ctx context.Context, args []string, stdout, stderr io.Writer) int
}

// commands lists the subcommands in the order "carta help" prints them.
func commands() []command {
	return []command{
		{"render", "render a job to PDF locally: carta render JOB.json [-o OUT.pdf]", runRender},
		{"validate", "check a job without rendering it: carta validate JOB.json", runValidate},
		{"worker", "take jobs from NATS, render, store PDFs in S3: carta worker [flags]", runWorker},
		{"submit", "queue jobs and optionally wait: carta submit JOB.json… [-wait] [-o OUT.pdf|DIR]", runSubmit},
		{"requeue", "move dead-lettered jobs back to the queue: carta requeue (-id ID | -all | -since T) [-confirm]", runRequeue},
		{"serve", "serve the HTTP API and the staff web page: carta serve [flags]", runServe},
		{"demo", "run NATS, S3 and a worker on embedded defaults and render the reference letter: carta demo [-exit]", runDemo},
		{"bench", "load run through NATS, a worker and S3 next to render-only: carta bench [-n N] [-rate R]", runBench},
		{"soak", "long run sampling RSS, heap and goroutines, with CSV and PNG: carta soak [-n N] [-csv F] [-png F]", runSoak},
	}
}

func main() {
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	code := run(ctx, os.Args[1:], os.Stdout, os.Stderr)
	stop()
	os.Exit(code)
}

func run(ctx context.Context, args []string, stdout, stderr io.Writer) int {
	if len(args) == 0 || args[0] == "help" || args[0] == "-h" || args[0] == "--help" {
		usage(stdout)
		if len(args) == 0 {
			return exitInvalid
		}
		return exitOK
	}
	if args[0] == "version" || args[0] == "--version" {
		fmt.Fprintln(stdout, "carta", renderer.Version)
		return exitOK
	}
	for _, c := range commands() {
		if c.name == args[0] {
			return c.run(ctx, args[1:], stdout, stderr)
		}
	}
	fmt.Fprintf(stderr, "carta: unknown command %q; run \"carta help\" for the list\n", args[0])
	return exitInvalid
}

func usage(w io.Writer) {
	fmt.Fprintln(w, "carta turns letter jobs (letter/v1 JSON) into print-ready PDF letters.")
	fmt.Fprintln(w, "\nUsage: carta COMMAND [flags]\n\nCommands:")
	for _, c := range commands() {
		fmt.Fprintf(w, "  %-9s %s\n", c.name, c.summary)
	}
	fmt.Fprintln(w, "  version   print the version")
	fmt.Fprintln(w, "\nEvery flag can also be set with an environment variable CARTA_<FLAG> (e.g. CARTA_NATS_URL).")
}
