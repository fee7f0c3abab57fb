{{/*
Names and labels shared by every template.
*/}}

{{/* The chart name, or nameOverride. */}}
{{- define "griddesk.name" -}}
{{- default .Chart.Name .Values.nameOverride | trunc 63 | trimSuffix "-" -}}
{{- end -}}

{{/*
The prefix of every resource name: fullnameOverride, else "<release>-<name>" (just the release
name when it already contains the chart name). Truncated to 63 characters with room for the
longest suffix ("-controller-leader-election" is added to Role names, which allow 253).
*/}}
{{- define "griddesk.fullname" -}}
{{- if .Values.fullnameOverride -}}
{{- .Values.fullnameOverride | trunc 63 | trimSuffix "-" -}}
{{- else -}}
{{- $name := include "griddesk.name" . -}}
{{- if contains $name .Release.Name -}}
{{- .Release.Name | trunc 63 | trimSuffix "-" -}}
{{- else -}}
{{- printf "%s-%s" .Release.Name $name | trunc 63 | trimSuffix "-" -}}
{{- end -}}
{{- end -}}
{{- end -}}

{{/* Resource names of the two components; the controller's also names its ServiceAccount. */}}
{{- define "griddesk.controller.fullname" -}}
{{- printf "%s-controller" (include "griddesk.fullname" .) | trunc 63 | trimSuffix "-" -}}
{{- end -}}
{{- define "griddesk.agent.fullname" -}}
{{- printf "%s-agent" (include "griddesk.fullname" .) | trunc 63 | trimSuffix "-" -}}
{{- end -}}

{{/* The helm.sh/chart label: "<chart>-<version>" with "+" made label-safe. */}}
{{- define "griddesk.chart" -}}
{{- printf "%s-%s" .Chart.Name .Chart.Version | replace "+" "_" | trunc 63 | trimSuffix "-" -}}
{{- end -}}

{{/* Labels on every object the chart renders. */}}
{{- define "griddesk.labels" -}}
helm.sh/chart: {{ include "griddesk.chart" . }}
{{ include "griddesk.selectorLabels" . }}
app.kubernetes.io/version: {{ .Chart.AppVersion | quote }}
app.kubernetes.io/managed-by: {{ .Release.Service }}
app.kubernetes.io/part-of: griddesk
{{- end -}}

{{/* Labels that select the release's objects; never change them (selectors are immutable). */}}
{{- define "griddesk.selectorLabels" -}}
app.kubernetes.io/name: {{ include "griddesk.name" . }}
app.kubernetes.io/instance: {{ .Release.Name }}
{{- end -}}

{{/* Per-component labels: call with (dict "ctx" $ "component" "controller"). */}}
{{- define "griddesk.componentLabels" -}}
{{ include "griddesk.labels" .ctx }}
app.kubernetes.io/component: {{ .component }}
{{- end -}}
{{- define "griddesk.componentSelectorLabels" -}}
{{ include "griddesk.selectorLabels" .ctx }}
app.kubernetes.io/component: {{ .component }}
{{- end -}}

{{/* The image reference; the tag defaults to the chart's appVersion. */}}
{{- define "griddesk.image" -}}
{{- printf "%s:%s" .Values.image.repository (default .Chart.AppVersion .Values.image.tag) -}}
{{- end -}}

{{/* Environment shared by both components (downward API). */}}
{{- define "griddesk.podEnv" -}}
- name: POD_NAME
  valueFrom:
    fieldRef:
      fieldPath: metadata.name
- name: POD_NAMESPACE
  valueFrom:
    fieldRef:
      fieldPath: metadata.namespace
- name: NODE_NAME
  valueFrom:
    fieldRef:
      fieldPath: spec.nodeName
{{- end -}}

{{- define "griddesk.kubevirtAgent.fullname" -}}
{{- printf "%s-kubevirt-agent" (include "griddesk.fullname" .) | trunc 63 | trimSuffix "-" -}}
{{- end -}}

{{- define "griddesk.broker.fullname" -}}
{{- printf "%s-broker" (include "griddesk.fullname" .) | trunc 63 | trimSuffix "-" -}}
{{- end -}}
