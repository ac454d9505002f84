{{/* The chart's name, or nameOverride. */}}
{{- define "daemoncheck.name" -}}
{{- default .Chart.Name .Values.nameOverride | trunc 63 | trimSuffix "-" }}
{{- end }}

{{/* Object names: the release name, with the chart name unless the release already says it. */}}
{{- define "daemoncheck.fullname" -}}
{{- if .Values.fullnameOverride }}
{{- .Values.fullnameOverride | trunc 63 | trimSuffix "-" }}
{{- else }}
{{- $name := default .Chart.Name .Values.nameOverride }}
{{- if contains $name .Release.Name }}
{{- .Release.Name | trunc 63 | trimSuffix "-" }}
{{- else }}
{{- printf "%s-%s" .Release.Name $name | trunc 63 | trimSuffix "-" }}
{{- end }}
{{- end }}
{{- end }}

{{- define "daemoncheck.selectorLabels" -}}
app.kubernetes.io/name: {{ include "daemoncheck.name" . }}
app.kubernetes.io/instance: {{ .Release.Name }}
{{- end }}

{{- define "daemoncheck.labels" -}}
helm.sh/chart: {{ printf "%s-%s" .Chart.Name .Chart.Version | replace "+" "_" | trunc 63 | trimSuffix "-" }}
{{ include "daemoncheck.selectorLabels" . }}
app.kubernetes.io/version: {{ .Chart.AppVersion | quote }}
app.kubernetes.io/managed-by: {{ .Release.Service }}
app.kubernetes.io/component: serve
{{- end }}

{{- define "daemoncheck.serviceAccountName" -}}
{{- if .Values.serviceAccount.create }}
{{- default (include "daemoncheck.fullname" .) .Values.serviceAccount.name }}
{{- else }}
{{- default "default" .Values.serviceAccount.name }}
{{- end }}
{{- end }}

{{/* The image: a digest pins it; else the tag, which defaults to the appVersion. */}}
{{- define "daemoncheck.image" -}}
{{- if .Values.image.digest }}
{{- printf "%s@%s" .Values.image.repository .Values.image.digest }}
{{- else }}
{{- printf "%s:%s" .Values.image.repository (default .Chart.AppVersion .Values.image.tag) }}
{{- end }}
{{- end }}

{{/* The policy's ConfigMap: the existing one, or the chart's. */}}
{{- define "daemoncheck.policyConfigMap" -}}
{{- default (printf "%s-policy" (include "daemoncheck.fullname" .)) .Values.policy.existingConfigMap }}
{{- end }}
