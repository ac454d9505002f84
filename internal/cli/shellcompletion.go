package cli

import (
	"io"

	"github.com/spf13/cobra"
)

// kubectlBashWrapper completes `kubectl daemoncheck ...` in bash. kubectl
// v1.26+ does so itself through kubectl_complete-daemoncheck on PATH
// (plugins/); this covers installs without it and older kubectl. It hands
// the words after "kubectl daemoncheck" to the plugin's own completion and
// everything else to kubectl's, so it must be sourced after kubectl's
// completion. "kubectl daemoncheck" and "kubectl-daemoncheck" have the same
// length, so COMP_POINT stays right.
const kubectlBashWrapper = `
# Completion of "kubectl daemoncheck ...": source after kubectl's own
# completion (source <(kubectl completion bash)).
__kubectl_daemoncheck_orig=$(complete -p kubectl 2>/dev/null | sed -n 's/.*-F \([^ ]*\).*/\1/p')
__kubectl_daemoncheck_wrap()
{
    if [[ ${COMP_CWORD} -ge 2 && ${COMP_WORDS[1]} == daemoncheck && ${COMP_LINE} == "kubectl daemoncheck"* ]]; then
        local COMP_WORDS=("kubectl-daemoncheck" "${COMP_WORDS[@]:2}")
        local COMP_CWORD=$((COMP_CWORD - 1))
        local COMP_LINE="kubectl-daemoncheck${COMP_LINE#kubectl daemoncheck}"
        __start_kubectl-daemoncheck "$@"
        return
    fi
    if [[ -n ${__kubectl_daemoncheck_orig} ]]; then
        "${__kubectl_daemoncheck_orig}" "$@"
    fi
}
complete -o default -F __kubectl_daemoncheck_wrap kubectl
`

// newCmdCompletion replaces cobra's default completion command: its bash
// script also completes "kubectl daemoncheck ...", which is how the plugin
// is run.
func newCmdCompletion(root *cobra.Command) *cobra.Command {
	cmd := &cobra.Command{
		Use:   "completion bash|zsh|fish|powershell",
		Short: "Generate the shell completion script",
		Long: `Generate the completion script for the given shell. With kubectl v1.26 or
later, plugins/kubectl_complete-daemoncheck on PATH is enough for
"kubectl daemoncheck <TAB>"; the bash script completes both
"kubectl-daemoncheck" and "kubectl daemoncheck" without it (source it after
kubectl's completion).`,
		Example: `  # bash: kubectl's completion first, then daemoncheck's
  source <(kubectl completion bash)
  source <(kubectl daemoncheck completion bash)`,
		ValidArgs: []string{"bash", "zsh", "fish", "powershell"},
		Args: func(cmd *cobra.Command, args []string) error {
			if len(args) != 1 {
				return usageErrorf("completion needs one shell: bash, zsh, fish or powershell")
			}
			return nil
		},
		RunE: func(cmd *cobra.Command, args []string) error {
			return genCompletion(root, args[0], cmd.OutOrStdout())
		},
	}
	return cmd
}

func genCompletion(root *cobra.Command, shell string, w io.Writer) error {
	var err error
	switch shell {
	case "bash":
		if err = root.GenBashCompletionV2(w, true); err == nil {
			_, err = io.WriteString(w, kubectlBashWrapper)
		}
	case "zsh":
		err = root.GenZshCompletion(w)
	case "fish":
		err = root.GenFishCompletion(w, true)
	case "powershell":
		err = root.GenPowerShellCompletionWithDesc(w)
	default:
		return usageErrorf("completion: unknown shell %q; use bash, zsh, fish or powershell", shell)
	}
	if err != nil {
		return inputErrorf("writing the completion script: %v", err)
	}
	return nil
}
