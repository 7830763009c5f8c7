#!/usr/bin/env python3
"""Generate batch-client/src/models/*.rs from the official swagger file.

Run from the repo root: python3 batch-client/tools/gen_models.py && cargo fmt -p batch-client
Every field is emitted with its exact wire name; optional properties are `Option`, required ones
are plain values with `#[serde(default)]` so a response that omits them still parses. Enums stay
`String` so an unknown value from a newer service never fails parsing. Write-only secret
properties use `Secret`, whose Debug output is redacted.
"""
import json, re, os

SPEC = "spec/BatchService.2024-07-01.20.0.json"
OUT = "batch-client/src/models"
d = json.load(open(SPEC))["definitions"]

ROOTS = """PoolAddParameter CloudPool CloudPoolListResult PoolPatchParameter PoolUpdatePropertiesParameter
PoolResizeParameter PoolEnableAutoScaleParameter PoolEvaluateAutoScaleParameter JobAddParameter CloudJob CloudJobListResult
JobPatchParameter JobUpdateParameter JobTerminateParameter TaskAddParameter CloudTask CloudTaskListResult
TaskUpdateParameter TaskAddCollectionParameter TaskAddCollectionResult AccountListSupportedImagesResult
ComputeNode ComputeNodeListResult PoolNodeCountsListResult NodeFileListResult BatchError
JobScheduleAddParameter CloudJobSchedule CloudJobScheduleListResult JobSchedulePatchParameter
JobScheduleUpdateParameter""".split()

MODULES = {
    "pool": """PoolAddParameter CloudPool CloudPoolListResult PoolPatchParameter PoolUpdatePropertiesParameter
PoolResizeParameter PoolEnableAutoScaleParameter PoolEvaluateAutoScaleParameter VirtualMachineConfiguration
ImageReference ContainerConfiguration ContainerRegistry NetworkConfiguration TaskSchedulingPolicy ResizeError
AutoScaleRun AutoScaleRunError WindowsConfiguration DataDisk DiskEncryptionConfiguration NodePlacementConfiguration
VMExtension OSDisk DiffDiskSettings ManagedDisk VMDiskSecurityProfile SecurityProfile UefiSettings ServiceArtifactReference
PoolEndpointConfiguration InboundNATPool NetworkSecurityGroupRule PublicIPAddressConfiguration UserAccount
LinuxUserConfiguration WindowsUserConfiguration MountConfiguration AzureBlobFileSystemConfiguration NFSMountConfiguration
CIFSMountConfiguration AzureFileShareConfiguration UpgradePolicy AutomaticOSUpgradePolicy RollingUpgradePolicy
BatchPoolIdentity UserAssignedIdentity PoolStatistics UsageStatistics ResourceStatistics CertificateReference""".split(),
    "job": """JobAddParameter CloudJob CloudJobListResult JobPatchParameter JobUpdateParameter JobTerminateParameter
JobConstraints JobManagerTask JobPreparationTask JobReleaseTask PoolInformation AutoPoolSpecification PoolSpecification
JobExecutionInformation JobSchedulingError JobNetworkConfiguration JobStatistics""".split(),
    "schedule": """JobScheduleAddParameter CloudJobSchedule CloudJobScheduleListResult JobSchedulePatchParameter
JobScheduleUpdateParameter Schedule JobSpecification JobScheduleExecutionInformation RecentJob
JobScheduleStatistics""".split(),
    "task": """TaskAddParameter CloudTask CloudTaskListResult TaskUpdateParameter TaskAddCollectionParameter
TaskAddCollectionResult TaskAddResult TaskConstraints TaskContainerSettings ContainerHostBatchBindMountEntry ResourceFile
OutputFile OutputFileDestination OutputFileBlobContainerDestination HttpHeader OutputFileUploadOptions ExitConditions
ExitCodeMapping ExitCodeRangeMapping ExitOptions AffinityInformation AuthenticationTokenSettings TaskDependencies
TaskIdRange MultiInstanceSettings TaskExecutionInformation TaskFailureInformation TaskContainerExecutionInformation
ComputeNodeInformation TaskStatistics StartTask StartTaskInformation UserIdentity AutoUserSpecification""".split(),
    "node": """ComputeNode ComputeNodeListResult ComputeNodeError TaskInformation ComputeNodeEndpointConfiguration
InboundEndpoint NodeAgentInformation VirtualMachineInfo PoolNodeCountsListResult PoolNodeCounts NodeCounts""".split(),
    "file": "NodeFileListResult NodeFile FileProperties".split(),
    "image": "AccountListSupportedImagesResult ImageInformation".split(),
    "common": """BatchError ErrorMessage BatchErrorDetail NameValuePair MetadataItem EnvironmentSetting
ApplicationPackageReference ComputeNodeIdentityReference""".split(),
}
# Rust names that differ from the definition name (avoid clashing with crate::BatchError).
RENAME = {"BatchError": "BatchErrorBody"}
SECRET_PROPS = {"password", "accountKey", "sasKey", "sshPrivateKey", "protectedSettings"}

def refname(r):
    return r.split("/")[-1]

def closure():
    seen, stack = set(), list(ROOTS)
    while stack:
        n = stack.pop()
        if n in seen:
            continue
        seen.add(n)
        for p in d[n].get("properties", {}).values():
            for r in refs(p):
                if "properties" in d[r]:
                    stack.append(r)
    return seen

def refs(p):
    if "$ref" in p:
        yield refname(p["$ref"])
    if p.get("type") == "array" and "$ref" in p["items"]:
        yield refname(p["items"]["$ref"])

def snake(name):
    name = name.replace("odata.nextLink", "nextLink").replace("odata.", "odata_")
    s = re.sub(r"([A-Z]+)([A-Z][a-z])", r"\1_\2", name)
    s = re.sub(r"([a-z0-9])([A-Z])", r"\1_\2", s)
    s = s.lower()
    if s == "type":
        s = "type_"
    return s

def scalar(p):
    t = p.get("type")
    f = p.get("format")
    if t == "string":
        return "String"
    if t == "integer":
        return "i64" if f == "int64" else "i32"
    if t == "number":
        return "f64"
    if t == "boolean":
        return "bool"
    if t == "object":
        ap = p.get("additionalProperties")
        if isinstance(ap, dict) and ap.get("type") == "string":
            return "BTreeMap<String, String>"
        return "serde_json::Value"
    raise Exception(p)

def rust_type(p):
    if "$ref" in p:
        r = refname(p["$ref"])
        if "properties" in d[r]:
            return RENAME.get(r, r)
        return scalar(d[r])  # enum definitions are strings
    if p.get("type") == "array":
        return "Vec<%s>" % rust_type(p["items"])
    return scalar(p)

def enum_values(p):
    if "enum" in p:
        return p["enum"]
    if "$ref" in p and "enum" in d[refname(p["$ref"])]:
        return d[refname(p["$ref"])]["enum"]
    return None

def doc(text, indent):
    text = (text or "").strip().replace("\n", " ")
    m = re.match(r"(.+?\.)(\s|$)", text)
    first = m.group(1) if m else text
    if len(first) > 220:
        first = first[:217].rsplit(" ", 1)[0] + "..."
    first = first.replace("[", "\\[").replace("]", "\\]").replace("<", "&lt;").replace(">", "&gt;")
    first = re.sub(r"(https?://[^\s()<>&]*[^\s()<>&.,;])", r"<\1>", first)
    return f"{indent}/// {first}\n" if first else ""

def gen_struct(name):
    x = d[name]
    req = set(x.get("required", []))
    out = doc(x.get("description") or x.get("title") or name, "")
    out += "#[derive(Debug, Clone, PartialEq, Default, Serialize, Deserialize)]\n"
    out += f"pub struct {RENAME.get(name, name)} {{\n"
    for prop, p in x.get("properties", {}).items():
        ty = rust_type(p)
        if prop in SECRET_PROPS:
            ty = "Secret<%s>" % ty
        out += doc(p.get("description") or p.get("title"), "    ")
        ev = enum_values(p)
        if ev:
            out += "    /// Wire values: %s (kept as a string so newer values still parse).\n" % ", ".join(f"`{v}`" for v in ev)
        if p.get("readOnly"):
            out += "    /// Read-only: returned by the service, never sent.\n"
        field = snake(prop)
        if prop in req:
            out += f'    #[serde(rename = "{prop}", default)]\n'
            out += f"    pub {field}: {ty},\n"
        else:
            out += f'    #[serde(rename = "{prop}", default, skip_serializing_if = "Option::is_none")]\n'
            out += f"    pub {field}: Option<{ty}>,\n"
    out += "}\n"
    return out

def main():
    needed = closure()
    assigned = {n for v in MODULES.values() for n in v}
    missing = needed - assigned
    if missing:
        raise SystemExit("unassigned definitions: %s" % sorted(missing))
    os.makedirs(OUT, exist_ok=True)
    for mod, names in MODULES.items():
        body = "//! Generated by `batch-client/tools/gen_models.py` from the 2024-07-01.20.0 swagger; do not edit by hand.\n"
        body += "#![allow(missing_docs)]\n\n"
        body += "#[allow(unused_imports)]\nuse super::*;\n#[allow(unused_imports)]\nuse std::collections::BTreeMap;\nuse serde::{Deserialize, Serialize};\n"
        for n in names:
            body += "\n" + gen_struct(n)
        open(f"{OUT}/{mod}.rs", "w").write(body)
    print("generated", sum(len(v) for v in MODULES.values()), "structs;", len(needed), "reachable")

main()
