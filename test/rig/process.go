package rig

import (
	"os"
	"os/exec"
	"syscall"
	"time"
)

// process is one component, started in its own process group so that Stop
// also reaches anything it forks.
type process struct {
	cmd  *exec.Cmd
	log  *os.File
	done chan struct{}
	err  error
}

func startProcess(path string, args, env []string, logPath string) (*process, error) {
	log, err := os.OpenFile(logPath, os.O_CREATE|os.O_WRONLY|os.O_APPEND, 0o644)
	if err != nil {
		return nil, err
	}
	cmd := exec.Command(path, args...)
	cmd.Stdout = log
	cmd.Stderr = log
	cmd.Env = append(os.Environ(), env...)
	cmd.SysProcAttr = sysProcAttr()
	if err := cmd.Start(); err != nil {
		log.Close()
		return nil, err
	}
	p := &process{cmd: cmd, log: log, done: make(chan struct{})}
	go func() {
		p.err = cmd.Wait()
		log.Close()
		close(p.done)
	}()
	return p, nil
}

// stop sends SIGTERM to the process group, then SIGKILL after a grace period,
// and waits for the process to exit.
func (p *process) stop() {
	select {
	case <-p.done:
		killGroup(p.cmd.Process.Pid, syscall.SIGKILL) // stragglers in the group
		return
	default:
	}
	killGroup(p.cmd.Process.Pid, syscall.SIGTERM)
	select {
	case <-p.done:
	case <-time.After(3 * time.Second):
		killGroup(p.cmd.Process.Pid, syscall.SIGKILL)
		<-p.done
	}
	killGroup(p.cmd.Process.Pid, syscall.SIGKILL)
}
