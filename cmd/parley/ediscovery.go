package main

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"os"
	"strings"
	"text/tabwriter"
	"time"

	"parley/internal/audit"
	"parley/internal/config"
	"parley/internal/control"
	"parley/internal/ediscovery"
)

const ediscoverySynopsis = "ediscovery search|export [--participant JID]... [--room ROOM]... [--start T] [--end T] [--words W] | ediscovery jobs | ediscovery delete ID | ediscovery verify FILE"

// ediscoverySubs are the subcommands of ediscovery and their positional arguments.
var ediscoverySubs = map[string]string{"search": "", "export": "", "jobs": "", "delete": "export ID", "verify": "export file"}

// runEdiscovery searches and exports archives through the running
// server's control socket (the server records each in its audit log), and
// verifies an export offline.
func runEdiscovery(args []string, stdout, stderr io.Writer) error {
	sub, args, fs, err := subcommand("ediscovery", ediscoverySynopsis, ediscoverySubs, args, stderr)
	if err != nil {
		return err
	}
	var participants, rooms listFlag
	var start, end, words, cursor, output, key *string
	var limit *int
	var asJSON, noWait *bool
	queryFlags := func() {
		fs.Var(&participants, "participant", "a participant's `JID` (repeat for several)")
		fs.Var(&rooms, "room", "a room's `JID` (repeat for several)")
		start = fs.String("start", "", "messages at or after this `time` (RFC 3339, or a date)")
		end = fs.String("end", "", "messages at or before this `time` (RFC 3339, or a date: to its end)")
		words = fs.String("words", "", "`words` that must all occur in a message")
	}
	switch sub {
	case "search":
		queryFlags()
		limit = fs.Int("limit", 100, "messages per page (1 to 1000)")
		cursor = fs.String("cursor", "", "the `cursor` a previous page printed, for the next page")
		asJSON = fs.Bool("json", false, "print the messages as JSON Lines")
	case "export":
		queryFlags()
		output = fs.String("output", "", "copy the finished zip to this `file` (default ediscovery-ID.zip)")
		noWait = fs.Bool("no-wait", false, "start the export and print its job id without waiting")
	case "verify":
		key = fs.String("public-key", "", "the audit public key `file` (default <data>/"+audit.PublicKeyFile+")")
	}
	cfg, pos, err := subcommandConfig(fs, args, ediscoverySubs[sub])
	if err != nil {
		return err
	}
	ctx := context.Background()
	if sub == "verify" {
		return ediscoveryVerify(cfg, pos[0], *key, stdout)
	}
	if sub == "delete" {
		if _, err := ediscoveryCall(ctx, cfg, control.Request{Op: "ediscovery.delete", ID: pos[0]}); err != nil {
			return err
		}
		fmt.Fprintf(stdout, "deleted export %s\n", pos[0])
		return nil
	}
	if sub == "jobs" {
		resp, err := ediscoveryCall(ctx, cfg, control.Request{Op: "ediscovery.jobs"})
		if err != nil {
			return err
		}
		return printJobs(resp.Jobs, stdout)
	}
	q := ediscovery.Query{Participants: participants.list, Rooms: rooms.list, Words: *words}
	if q.Start, err = parseTime("--start", *start, false); err != nil {
		return err
	}
	if q.End, err = parseTime("--end", *end, true); err != nil {
		return err
	}
	if sub == "search" {
		resp, err := ediscoveryCall(ctx, cfg, control.Request{Op: "ediscovery.search", Query: &q, Cursor: *cursor, Limit: *limit})
		if err != nil {
			return err
		}
		return printPage(resp.Page, *asJSON, stdout)
	}
	resp, err := ediscoveryCall(ctx, cfg, control.Request{Op: "ediscovery.export", Query: &q})
	if err != nil {
		return err
	}
	j := resp.Jobs[0]
	fmt.Fprintf(stdout, "export %s started\n", j.ID)
	if *noWait {
		return nil
	}
	return followExport(ctx, cfg, j.ID, *output, stdout)
}

// ediscoveryCall sends req to the running server, as the operator's
// login, which the audit log records with "cli".
func ediscoveryCall(ctx context.Context, cfg config.Config, req control.Request) (control.Response, error) {
	req.Name = os.Getenv("USER")
	resp, err := control.Call(ctx, cfg.Data, req)
	if errors.Is(err, control.ErrNoServer) {
		return resp, errors.New("e-discovery runs in the server: start it (parley serve) and try again")
	}
	if err == nil && req.Op == "ediscovery.export" && len(resp.Jobs) != 1 {
		err = errors.New("the server answered without a job")
	}
	return resp, err
}

// followExport prints the job's progress as it changes until it ends,
// then copies the zip to output. It asks every 50 ms at first, then less
// often, up to every second (a small export ends at once, a large one
// takes minutes).
func followExport(ctx context.Context, cfg config.Config, id, output string, stdout io.Writer) error {
	wait := 50 * time.Millisecond
	last := ""
	for {
		resp, err := ediscoveryCall(ctx, cfg, control.Request{Op: "ediscovery.job", ID: id})
		if err != nil {
			return err
		}
		j := resp.Jobs[0]
		p := j.Progress
		line := fmt.Sprintf("%s: %d messages, %d related, %d attachments (%d no longer stored)",
			p.Phase, p.Messages, p.Related, p.Attachments, p.AttachmentsMissing)
		if line != last {
			fmt.Fprintln(stdout, line)
			last = line
		}
		switch j.Status {
		case ediscovery.StatusFailed:
			return fmt.Errorf("export %s failed: %s", id, j.Error)
		case ediscovery.StatusDone:
			if output == "" {
				output = "ediscovery-" + id + ".zip"
			}
			if err := copyExport(j.File, output); err != nil {
				return err
			}
			fmt.Fprintf(stdout, "wrote %s (SHA-256 %s); check it with: parley ediscovery verify %s\n", output, j.SHA256, output)
			return nil
		}
		time.Sleep(wait)
		wait = min(2*wait, time.Second)
	}
}

func copyExport(from, to string) error {
	src, err := os.Open(from)
	if err != nil {
		return err
	}
	defer src.Close()
	dst, err := os.OpenFile(to, os.O_WRONLY|os.O_CREATE|os.O_EXCL, 0o600)
	if err != nil {
		return err
	}
	_, err = io.Copy(dst, src)
	return errors.Join(err, dst.Close())
}

func printPage(p *ediscovery.Page, asJSON bool, stdout io.Writer) error {
	if p == nil {
		return errors.New("the server answered without a page")
	}
	if asJSON {
		enc := json.NewEncoder(stdout)
		enc.SetEscapeHTML(false)
		for _, m := range p.Messages {
			if err := enc.Encode(m); err != nil {
				return err
			}
		}
	} else {
		tw := tabwriter.NewWriter(stdout, 0, 4, 2, ' ', 0)
		fmt.Fprintln(tw, "TIME\tARCHIVE\tFROM\tTO\tTEXT")
		for _, m := range p.Messages {
			text := m.Body
			switch {
			case m.Retracted != nil:
				text = "(retracted)"
			case m.Replaces != "":
				text = "(correction) " + text
			}
			if r := []rune(strings.Join(strings.Fields(text), " ")); len(r) > 60 {
				text = string(r[:59]) + "…"
			} else {
				text = string(r)
			}
			fmt.Fprintf(tw, "%s\t%s\t%s\t%s\t%s\n", m.Stamp.Format(time.RFC3339), m.Archive, m.From, m.To, text)
		}
		if err := tw.Flush(); err != nil {
			return err
		}
	}
	if p.Next != "" {
		fmt.Fprintf(stdout, "more: --cursor %s\n", p.Next)
	}
	return nil
}

func printJobs(jobs []ediscovery.Job, stdout io.Writer) error {
	tw := tabwriter.NewWriter(stdout, 0, 4, 2, ' ', 0)
	fmt.Fprintln(tw, "ID\tCREATED\tACTOR\tSTATUS\tMESSAGES\tFILE")
	for _, j := range jobs {
		fmt.Fprintf(tw, "%s\t%s\t%s\t%s\t%d\t%s\n", j.ID, j.Created.Format(time.RFC3339), j.Actor, j.Status, j.Progress.Messages, j.File)
	}
	return tw.Flush()
}

// ediscoveryVerify checks an export against its manifest and the audit
// key; exit status 1 when anything differs.
func ediscoveryVerify(cfg config.Config, file, keyFile string, stdout io.Writer) error {
	pub, err := publicKey(cfg, keyFile)
	if err != nil {
		return err
	}
	rep, err := ediscovery.VerifyFile(file, pub)
	if err != nil {
		return err
	}
	m := rep.Manifest
	if rep.OK() {
		fmt.Fprintf(stdout, "export intact: %d files as signed; job %s by %s, %s; %d messages, %d related, %d attachments, %d EML\n",
			rep.Files, m.Job, m.Actor, m.Completed.Format(time.RFC3339), m.Counts.Messages, m.Counts.Related, m.Counts.Attachments, m.Counts.EML)
		return nil
	}
	fmt.Fprintf(stdout, "export TAMPERED: %d problems\n", len(rep.Problems))
	for _, p := range rep.Problems {
		fmt.Fprintf(stdout, "  %s\n", p)
	}
	return errReported
}
