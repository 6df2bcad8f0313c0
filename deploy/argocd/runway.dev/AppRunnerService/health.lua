-- Argo CD health check for runway.dev AppRunnerService, read from the kstatus conditions (Ready,
-- Reconciling, Stalled) that the runway controller writes. It uses no Lua string library, because Argo CD
-- runs argocd-cm health checks without the standard libraries.
local hs = {}

local function findCondition(conditions, conditionType)
  for _, condition in ipairs(conditions) do
    if condition.type == conditionType then
      return condition
    end
  end
  return nil
end

local function isTrue(condition)
  return condition ~= nil and condition.status == "True"
end

local function describe(condition, fallback)
  if condition ~= nil and condition.message ~= nil and condition.message ~= "" then
    return condition.message
  end
  if condition ~= nil and condition.reason ~= nil and condition.reason ~= "" then
    return condition.reason
  end
  return fallback
end

-- Paused resources are not reconciled, so their status stays behind their generation on purpose.
local annotations = obj.metadata.annotations
if annotations ~= nil and annotations["runway.dev/paused"] == "true" then
  hs.status = "Suspended"
  hs.message = "Reconciling is paused by the runway.dev/paused annotation"
  return hs
end

local status = obj.status
if status == nil or status.conditions == nil or #status.conditions == 0 then
  hs.status = "Progressing"
  hs.message = "Waiting for the controller to report status"
  return hs
end

-- Conditions that describe an older generation say nothing about the current spec.
local generation = obj.metadata.generation
if generation ~= nil then
  local waiting = "Waiting for the controller to observe generation " .. tostring(generation)
  if status.observedGeneration == nil or status.observedGeneration < generation then
    hs.status = "Progressing"
    hs.message = waiting
    return hs
  end
  for _, conditionType in ipairs({ "Ready", "Reconciling", "Stalled" }) do
    local condition = findCondition(status.conditions, conditionType)
    if condition ~= nil and condition.observedGeneration ~= nil and condition.observedGeneration < generation then
      hs.status = "Progressing"
      hs.message = waiting
      return hs
    end
  end
end

local stalled = findCondition(status.conditions, "Stalled")
if isTrue(stalled) then
  hs.status = "Degraded"
  if stalled.reason ~= nil and stalled.reason ~= "" then
    hs.message = stalled.reason .. ": " .. describe(stalled, "")
  else
    hs.message = describe(stalled, "The controller cannot make progress")
  end
  return hs
end

-- spec.paused maps to App Runner's PauseService; once AWS reports PAUSED the service is suspended.
local spec = obj.spec
if spec ~= nil and spec.paused == true and status.status == "PAUSED" then
  hs.status = "Suspended"
  hs.message = "The App Runner service is paused (spec.paused)"
  return hs
end

local reconciling = findCondition(status.conditions, "Reconciling")
if isTrue(reconciling) then
  hs.status = "Progressing"
  hs.message = describe(reconciling, "Reconciling")
  return hs
end

local ready = findCondition(status.conditions, "Ready")
if isTrue(ready) then
  hs.status = "Healthy"
  hs.message = describe(ready, "Ready")
  return hs
end

hs.status = "Progressing"
hs.message = describe(ready, "Waiting for the service to become ready")
return hs
