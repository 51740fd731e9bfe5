package bench

import (
	"context"
	"errors"
	"fmt"
	"net"
	"net/http"
	"os"
	"path/filepath"
	"runtime"
	"time"

	"github.com/llmux/llmux/bench/load"
	"github.com/llmux/llmux/bench/mock"
	"github.com/llmux/llmux/bench/proc"
	"github.com/llmux/llmux/bench/report"
)

// upstream is a mock server for one measurement.
type upstream struct {
	srv *http.Server
	url string
}

func startMock(opts mock.Options) (*upstream, error) {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return nil, err
	}
	srv := &http.Server{Handler: mock.New(opts), ReadHeaderTimeout: 10 * time.Second}
	go srv.Serve(ln)
	return &upstream{srv: srv, url: "http://" + ln.Addr().String()}, nil
}

func (u *upstream) close() { u.srv.Close() }

// measure runs scenario sc against one target: a fresh mock, a fresh
// gateway process started by l (none for report.Direct), a warm-up, and
// the measured load. For a keyed scenario l must be a keyedLauncher; the
// client then sends the virtual key, and the usage records are counted
// after the load.
func (r *runner) measure(ctx context.Context, sc *scenario, target string, l launcher) (*report.Row, error) {
	o := r.o
	if sc.keyed && target != report.Direct {
		kl, ok := l.(keyedLauncher)
		if !ok {
			return nil, fmt.Errorf("%s cannot be started with a virtual key", target)
		}
		l = kl.withKey()
	}
	mo := mock.Options{Chunks: o.Chunks, ChunkDelay: o.ChunkDelay}
	if sc.kind == report.Hold {
		mo = mock.Options{Chunks: o.StreamChunks, ChunkDelay: o.StreamInterval}
	}
	up, err := startMock(mo)
	if err != nil {
		return nil, err
	}
	defer up.close()

	base, c := up.url, sc.upstream
	var p *process
	if target != report.Direct {
		addr, err := freeAddr()
		if err != nil {
			return nil, err
		}
		dir := filepath.Join(r.dir, sc.id+"-"+target)
		if err := os.MkdirAll(dir, 0o755); err != nil {
			return nil, err
		}
		p, err = l.start(ctx, addr, up.url, dir)
		if err != nil {
			return nil, err
		}
		defer func() {
			if err := p.stop(); err != nil {
				r.note("%s, %s: %v", sc.id, target, err)
			}
		}()
		base, c = "http://"+addr, sc.client
	}
	sent := 0 // calls besides the measured ones: probe and warm-up
	if p != nil && p.key != nil {
		c = c.withKey(p.key.Key)
		if err := checkLimited(ctx, c.request(base, mo.Chunks)); err != nil {
			return nil, err
		}
		sent++
	}
	row := &report.Row{Target: target}
	req := c.request(base, mo.Chunks)
	var warm int
	switch sc.kind {
	case report.Hold:
		w := openaiChat(modelOpenAI, false).request(base, 0)
		warm, err = r.hold(ctx, row, p, w, req)
	case report.Open:
		warm, err = r.open(ctx, row, p, req)
	default:
		warm, err = r.closed(ctx, row, p, req)
	}
	if err != nil || p == nil || p.key == nil {
		return row, err
	}
	sent += warm + row.Calls
	if row.Usage, err = countUsage(ctx, p.addr, p.key, int64(sent), usageWait); err != nil {
		if o.Smoke || ctx.Err() != nil {
			return row, err
		}
		r.note("%s, %s: the usage records could not be counted (the figures stand): %v", sc.id, target, err)
		return row, nil
	}
	if !row.Usage.OK() {
		r.note("%s, %s: **usage records do not add up**: %d stored for %d calls, %v after the last answer.",
			sc.id, target, row.Usage.Records, row.Usage.Calls, row.Usage.Waited.Round(time.Millisecond))
	}
	return row, nil
}

// window reads the gateway before and after run, and fills row with what
// run measured and what the gateway spent meanwhile.
//
// It also reads how busy the benchmark process itself was, and how much CPU
// other processes on the machine took meanwhile, which disturbs every
// figure.
func (r *runner) window(row *report.Row, p *process, run func() *load.Result) error {
	var before proc.Sample
	if p != nil {
		var err error
		if before, err = p.sample(); err != nil {
			return err
		}
	}
	self0, err0 := proc.ReadStat(os.Getpid())
	sys0, err1 := proc.ReadSystemCPU()
	res := run()
	fill(row, res)
	self1, err2 := proc.ReadStat(os.Getpid())
	sys1, err3 := proc.ReadSystemCPU()
	var after proc.Sample
	if p != nil {
		var err error
		if after, err = p.sample(); err != nil {
			return err
		}
		if ok := res.OK(); ok > 0 {
			row.CPU = proc.TicksToDuration(after.Ticks-before.Ticks, r.hz) / time.Duration(ok)
			row.HasCPU = true
		}
		row.PeakRSS = after.HWM
	}
	if errors.Join(err0, err1, err2, err3) != nil || res.Elapsed <= 0 {
		return nil // the measurement stands without these readings
	}
	ticks := res.Elapsed.Seconds() * float64(r.hz) // per CPU
	mine := self1.Ticks() - self0.Ticks()
	row.GeneratorBusy = float64(mine) / ticks / float64(runtime.GOMAXPROCS(0))
	ours := mine + after.Ticks - before.Ticks
	if all := sys1.Tasks() - sys0.Tasks(); all > ours {
		row.OthersBusy = float64(all-ours) / ticks / float64(runtime.NumCPU())
	}
	return nil
}

func fill(row *report.Row, res *load.Result) {
	row.Calls, row.Errors, row.ErrorKinds = res.Calls, res.Errors, res.ErrorKinds
	row.Rate, row.Late = res.Rate(), res.Late
	row.P50, row.P99 = res.Latency.Quantile(0.5), res.Latency.Quantile(0.99)
	row.TTFT50, row.TTFT99 = res.TTFT.Quantile(0.5), res.TTFT.Quantile(0.99)
	row.Gap50, row.Gap99 = res.Gaps.Quantile(0.5), res.Gaps.Quantile(0.99)
}

// warmUp sends load for the warm-up time and fails when nothing got
// through, which means the target is broken, not slow. It returns the
// number of calls sent.
func warmUp(ctx context.Context, l interface {
	Run(context.Context, *load.Request) *load.Result
}, req *load.Request) (int, error) {
	res := l.Run(ctx, req)
	if res.Calls > 0 && res.OK() == 0 {
		return res.Calls, fmt.Errorf("every warm-up call failed: %v", res.ErrorKinds)
	}
	return res.Calls, nil
}

// closed runs the closed loop's warm-up and measured load into row; like
// open and hold, it returns the number of warm-up calls.
func (r *runner) closed(ctx context.Context, row *report.Row, p *process, req *load.Request) (int, error) {
	client := load.NewClient(r.o.Concurrency)
	defer client.CloseIdleConnections()
	loop := load.Closed{Client: client, Concurrency: r.o.Concurrency, Duration: r.o.Warmup}
	warm, err := warmUp(ctx, loop, req)
	if err != nil {
		return warm, err
	}
	loop.Duration = r.o.Duration
	return warm, r.window(row, p, func() *load.Result { return loop.Run(ctx, req) })
}

func (r *runner) open(ctx context.Context, row *report.Row, p *process, req *load.Request) (int, error) {
	client := load.NewClient(256)
	defer client.CloseIdleConnections()
	loop := load.Open{Client: client, Rate: r.o.OpenRate, Duration: r.o.Warmup}
	warm, err := warmUp(ctx, loop, req)
	if err != nil {
		return warm, err
	}
	loop.Duration = r.o.Duration
	return warm, r.window(row, p, func() *load.Result { return loop.Run(ctx, req) })
}

// hold warms the gateway with a few quick calls, reads its memory, opens
// the slow streams and reads its memory again while all are open.
func (r *runner) hold(ctx context.Context, row *report.Row, p *process, warmReq, req *load.Request) (int, error) {
	if p == nil {
		return 0, errors.New("held streams need a gateway process")
	}
	client := load.NewClient(4)
	warm, err := warmUp(ctx, load.Closed{Client: client, Concurrency: 4, Duration: r.o.Warmup / 2}, warmReq)
	if err != nil {
		return warm, err
	}
	client.CloseIdleConnections()
	time.Sleep(200 * time.Millisecond) // let the closed connections go
	before, err := p.sample()
	if err != nil {
		return warm, err
	}
	row.RSSBefore = before.RSS
	streams := load.NewClient(16)
	defer streams.CloseIdleConnections()
	var sampleErr error
	h := load.Hold{Client: streams, Streams: r.o.Streams, Ramp: r.o.Ramp, OnHeld: func(open int) {
		row.Open = open
		// The highest of a few readings, while every stream is open.
		for i := range 4 {
			if i > 0 {
				time.Sleep(150 * time.Millisecond)
			}
			s, err := p.sample()
			if err != nil {
				sampleErr = err
				return
			}
			row.RSSHeld = max(row.RSSHeld, s.RSS)
		}
	}}
	if err := r.window(row, p, func() *load.Result { return h.Run(ctx, req) }); err != nil {
		return warm, err
	}
	row.HasCPU = false // a held stream is mostly waiting; its CPU is not the point here
	if row.Open < r.o.Streams {
		r.note("%s: only %d of %d streams were open at once when memory was read", row.Target, row.Open, r.o.Streams)
	}
	return warm, sampleErr
}
