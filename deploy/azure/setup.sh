#!/bin/bash
# Sets up Stowage on Azure Stack Hub or Azure with the Azure CLI, then deploys
# azuredeploy.json (a Linux VM running the stowage:latest container with its own TLS).
#
#   Stack Hub: az cloud register ... && az cloud set -n <cloud> && az login ... first.
#   ./setup.sh --resource-group rg --location local --name stowage01 \
#       --public-host registry.example.com --dns-label stowage01 --ssh-key ~/.ssh/id_rsa.pub \
#       --image-tar stowage-image.tar --pfx registry.pfx --pfx-password-file pfx.pass \
#       --sp-app-id <id> --sp-secret-file sp.secret [--tenant <tenant>] [--authority-host <url>]
#
# Idempotent: what exists is kept (the admin password, the vault, the account), what is
# missing is created. --dry-run prints every command instead of running it (no az needed).
set -euo pipefail

HERE="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
TEMPLATE="$HERE/azuredeploy.json"
INSTALL_SCRIPT="$HERE/install-stowage.sh"

usage() {
  sed -n '2,13p' "${BASH_SOURCE[0]}" | sed 's/^# \{0,1\}//'
  cat <<'EOF'

Options:
  --resource-group RG       resource group (created if missing)          [required]
  --location LOC            region (Stack Hub: e.g. local)                [required]
  --name NAME               storage account name, 3-24 [a-z0-9]; also names the vault and VM [required]
  --public-host HOST        the registry's DNS name (the certificate must name it) [required]
  --dns-label LABEL         public IP DNS label (default: NAME)
  --ssh-key FILE            SSH public key of the VM's administrator      [required]
  --ssh-source PREFIX       address prefix allowed to SSH (default: none)
  --image-tar FILE          stowage:latest as a `docker save` tarball, uploaded and loaded on the VM
  --pfx FILE                TLS certificate and key (PFX), imported into the vault as stowage-tls
  --pfx-password-file FILE  its password
  --stack-hub | --azure     target (default: Stack Hub unless the current cloud is AzureCloud)
  --storage-api-version V   pinned storage REST version (Stack Hub default: 2019-07-07)
  --sp-app-id ID            service principal the VM runs as (Stack Hub: required)
  --sp-secret-file FILE     its secret (stored in the vault; the parameters file references it)
  --tenant T                its tenant (default: the current account's; AD FS: adfs)
  --authority-host URL      AZURE_AUTHORITY_HOST (Stack Hub AD FS: https://adfs.<region>.<domain>/adfs)
  --parameters-out FILE     where the parameters file goes (default: ./stowage.parameters.json)
  --no-deploy               stop after writing the parameters file
  --dry-run                 print what would be done; change nothing
EOF
}

die() {
  echo "setup.sh: $*" >&2
  exit 2
}

# ---- arguments ----
RG="" LOCATION="" NAME="" PUBLIC_HOST="" DNS_LABEL="" SSH_KEY="" SSH_SOURCE=""
IMAGE_TAR="" PFX="" PFX_PASSWORD_FILE="" TARGET="" STORAGE_API_VERSION=""
SP_APP_ID="" SP_SECRET_FILE="" TENANT="" AUTHORITY_HOST=""
PARAMS_OUT="./stowage.parameters.json" DEPLOY=1 DRY_RUN=0
while [ $# -gt 0 ]; do
  case "$1" in
    --resource-group) RG="$2"; shift 2 ;;
    --location) LOCATION="$2"; shift 2 ;;
    --name) NAME="$2"; shift 2 ;;
    --public-host) PUBLIC_HOST="$2"; shift 2 ;;
    --dns-label) DNS_LABEL="$2"; shift 2 ;;
    --ssh-key) SSH_KEY="$2"; shift 2 ;;
    --ssh-source) SSH_SOURCE="$2"; shift 2 ;;
    --image-tar) IMAGE_TAR="$2"; shift 2 ;;
    --pfx) PFX="$2"; shift 2 ;;
    --pfx-password-file) PFX_PASSWORD_FILE="$2"; shift 2 ;;
    --stack-hub) TARGET=stackhub; shift ;;
    --azure) TARGET=azure; shift ;;
    --storage-api-version) STORAGE_API_VERSION="$2"; shift 2 ;;
    --sp-app-id) SP_APP_ID="$2"; shift 2 ;;
    --sp-secret-file) SP_SECRET_FILE="$2"; shift 2 ;;
    --tenant) TENANT="$2"; shift 2 ;;
    --authority-host) AUTHORITY_HOST="$2"; shift 2 ;;
    --parameters-out) PARAMS_OUT="$2"; shift 2 ;;
    --no-deploy) DEPLOY=0; shift ;;
    --dry-run) DRY_RUN=1; shift ;;
    -h | --help) usage; exit 0 ;;
    *) die "unknown option $1 (see --help)" ;;
  esac
done
[ -n "$RG" ] || die "--resource-group is required"
[ -n "$LOCATION" ] || die "--location is required"
[[ "$NAME" =~ ^[a-z0-9]{3,24}$ ]] || die "--name must be 3-24 lowercase letters and digits (it names the storage account)"
[ -n "$PUBLIC_HOST" ] || die "--public-host is required"
[ -n "$SSH_KEY" ] || die "--ssh-key is required"
DNS_LABEL="${DNS_LABEL:-$NAME}"
VAULT="${NAME}kv"
[ -z "$PFX" ] || [ -n "$PFX_PASSWORD_FILE" ] || die "--pfx needs --pfx-password-file"
if [ "$DRY_RUN" = 0 ]; then
  command -v az >/dev/null || die "the Azure CLI (az) is not installed"
  for f in "$SSH_KEY" ${IMAGE_TAR:+"$IMAGE_TAR"} ${PFX:+"$PFX" "$PFX_PASSWORD_FILE"} ${SP_SECRET_FILE:+"$SP_SECRET_FILE"}; do
    [ -r "$f" ] || die "cannot read $f"
  done
fi

# ---- running commands (or printing them) ----
# run CMD...: runs it, or prints it under --dry-run. Arguments after a literal --secret are
# replaced by *** in what is printed.
run() {
  local shown=() hide=0 arg
  for arg in "$@"; do
    if [ "$arg" = "--secret" ]; then hide=1; continue; fi
    if [ "$hide" = 1 ]; then shown+=("***"); hide=0; else shown+=("$arg"); fi
  done
  echo "+ ${shown[*]}" >&2
  [ "$DRY_RUN" = 1 ] && return 0
  local real=()
  for arg in "$@"; do
    [ "$arg" = "--secret" ] || real+=("$arg")
  done
  "${real[@]}"
}

# query DEFAULT CMD...: the command's output, or DEFAULT under --dry-run (printed either way).
query() {
  local default="$1"
  shift
  echo "+ $*" >&2
  if [ "$DRY_RUN" = 1 ]; then printf '%s\n' "$default"; else "$@"; fi
}

# exists CMD...: whether a `show` command finds the resource (under --dry-run: no).
exists() {
  echo "+ $* (exists?)" >&2
  [ "$DRY_RUN" = 1 ] && return 1
  "$@" >/dev/null 2>&1
}

step() { printf '\n== %s\n' "$*" >&2; }

# ---- target cloud ----
CLOUD="$(query AzureStackUser az cloud show --query name -o tsv)"
if [ -z "$TARGET" ]; then
  if [ "$CLOUD" = AzureCloud ]; then TARGET=azure; else TARGET=stackhub; fi
fi
STORAGE_SUFFIX="$(query local.azurestack.external az cloud show --query suffixes.storageEndpoint -o tsv)"
VAULT_SUFFIX="$(query vault.local.azurestack.external az cloud show --query suffixes.keyvaultDns -o tsv)"
VAULT_SUFFIX="${VAULT_SUFFIX#.}"
if [ "$TARGET" = stackhub ]; then
  STORAGE_API_VERSION="${STORAGE_API_VERSION:-2019-07-07}"
  KIND=Storage # Stack Hub: general-purpose v1 accounts only
  KV_API=7.1
  KV_NO_CHALLENGE=true
  MANAGED_IDENTITY=false
  if [ -z "$SP_APP_ID" ] || [ -z "$SP_SECRET_FILE" ]; then
    die "Stack Hub has no managed identities for this: give --sp-app-id and --sp-secret-file"
  fi
else
  KIND=StorageV2
  KV_API=""
  KV_NO_CHALLENGE=false
  MANAGED_IDENTITY=true
  [ -z "$SP_APP_ID" ] || MANAGED_IDENTITY=false
fi
echo "target: $TARGET (cloud $CLOUD), storage suffix $STORAGE_SUFFIX, vault suffix $VAULT_SUFFIX" >&2

step "resource group $RG"
run az group create --name "$RG" --location "$LOCATION" --output none

step "storage account $NAME ($KIND)"
if ! exists az storage account show --resource-group "$RG" --name "$NAME"; then
  run az storage account create --resource-group "$RG" --name "$NAME" --location "$LOCATION" \
    --kind "$KIND" --sku Standard_LRS --https-only true --output none
fi

step "key vault $VAULT"
if ! exists az keyvault show --resource-group "$RG" --name "$VAULT"; then
  # access policies (Stack Hub has nothing else); recent CLIs default to RBAC on Azure, where the
  # policies below would then be ignored
  rbac_off=()
  [ "$TARGET" = azure ] && rbac_off=(--enable-rbac-authorization false)
  run az keyvault create --resource-group "$RG" --name "$VAULT" --location "$LOCATION" \
    --enabled-for-template-deployment true "${rbac_off[@]}" --output none
fi
VAULT_ID="$(query "/subscriptions/SUB/resourceGroups/$RG/providers/Microsoft.KeyVault/vaults/$VAULT" \
  az keyvault show --resource-group "$RG" --name "$VAULT" --query id -o tsv)"
VAULT_URL="https://$VAULT.$VAULT_SUFFIX"

# secret_from_file NAME FILE: stores FILE's content, without line breaks, as a secret (never on a command line)
secret_from_file() {
  local clean
  clean="$(mktemp)"
  chmod 600 "$clean"
  [ "$DRY_RUN" = 1 ] || tr -d '\r\n' <"$2" >"$clean"
  run az keyvault secret set --vault-name "$VAULT" --name "$1" --file "$clean" --encoding utf-8 --output none
  rm -f "$clean"
}

step "first admin: a generated password, kept only in the vault (stowage-admin-password)"
if ! exists az keyvault secret show --vault-name "$VAULT" --name stowage-admin-password; then
  secret_file="$(mktemp)"
  trap 'rm -f "$secret_file"' EXIT
  chmod 600 "$secret_file"
  [ "$DRY_RUN" = 1 ] || openssl rand -base64 30 | tr -d '\n' >"$secret_file"
  secret_from_file stowage-admin-password "$secret_file"
fi
echo "(the signing key is generated by the registry into the vault on its first start)" >&2

if [ -n "$PFX" ]; then
  step "TLS certificate: import $PFX as stowage-tls"
  pfx_password="$([ "$DRY_RUN" = 1 ] || tr -d '\n' <"$PFX_PASSWORD_FILE")"
  run az keyvault certificate import --vault-name "$VAULT" --name stowage-tls --file "$PFX" \
    --password --secret "$pfx_password" --output none
fi

step "identity"
if [ "$MANAGED_IDENTITY" = true ]; then
  echo "the VM gets a system-assigned identity; the template grants it Storage Blob/Queue/Table Data" \
    "Contributor on $NAME and get/list/set on the vault's secrets" >&2
else
  TENANT="${TENANT:-$(query TENANT az account show --query tenantId -o tsv)}"
  run az keyvault set-policy --name "$VAULT" --spn "$SP_APP_ID" --secret-permissions get list set --output none
  secret_from_file stowage-sp-secret "$SP_SECRET_FILE"
  STORAGE_KEY_SECRET=stowage-storage-connection-string
  cs_file="$(mktemp)"
  trap 'rm -f "${secret_file:-}" "$cs_file"' EXIT
  chmod 600 "$cs_file"
  query "DefaultEndpointsProtocol=https;AccountName=$NAME;AccountKey=***" \
    az storage account show-connection-string --resource-group "$RG" --name "$NAME" -o tsv >"$cs_file"
  secret_from_file "$STORAGE_KEY_SECRET" "$cs_file"
fi

IMAGE_URL=""
if [ -n "$IMAGE_TAR" ]; then
  step "image: upload $IMAGE_TAR to the deploy container, readable for a day"
  run az storage container create --account-name "$NAME" --name deploy --auth-mode key --output none
  run az storage blob upload --account-name "$NAME" --container-name deploy --name stowage-image.tar \
    --file "$IMAGE_TAR" --overwrite true --auth-mode key --output none
  expiry="$(date -u -d '+1 day' '+%Y-%m-%dT%H:%MZ' 2>/dev/null || date -u -v+1d '+%Y-%m-%dT%H:%MZ')"
  IMAGE_URL="$(query "https://$NAME.blob.$STORAGE_SUFFIX/deploy/stowage-image.tar?sv=SAS" \
    az storage blob generate-sas --account-name "$NAME" --container-name deploy --name stowage-image.tar \
    --permissions r --expiry "$expiry" --https-only --full-uri --auth-mode key -o tsv)"
fi

step "parameters file $PARAMS_OUT"
if [ "$DRY_RUN" = 1 ]; then ssh_key_text="ssh-rsa AAAA... (from $SSH_KEY)"; else ssh_key_text="$(cat "$SSH_KEY")"; fi
keyvault_ref() { # a Key Vault reference: the secret never appears in the file
  printf '{"reference":{"keyVault":{"id":"%s"},"secretName":"%s"}}' "$VAULT_ID" "$1"
}
value() { printf '{"value":%s}' "$(json_string "$1")"; }
json_string() { # a JSON string literal (backslash, quote and line breaks escaped; no other control characters occur)
  local s="$1"
  s="${s//\\/\\\\}"
  s="${s//\"/\\\"}"
  s="${s//$'\n'/\\n}"
  s="${s//$'\r'/\\r}"
  s="${s//$'\t'/\\t}"
  printf '"%s"' "$s"
}
{
  echo '{'
  # shellcheck disable=SC2016 # a literal "$schema" key
  echo '  "$schema": "https://schema.management.azure.com/schemas/2019-04-01/deploymentParameters.json#",'
  echo '  "contentVersion": "1.0.0.0",'
  echo '  "parameters": {'
  echo "    \"vmName\": $(value "$NAME"),"
  echo "    \"sshPublicKey\": $(value "$ssh_key_text"),"
  echo "    \"sshSourcePrefix\": $(value "$SSH_SOURCE"),"
  echo "    \"dnsLabel\": $(value "$DNS_LABEL"),"
  echo "    \"publicHostName\": $(value "$PUBLIC_HOST"),"
  echo "    \"stowageImageUrl\": $(value "$IMAGE_URL"),"
  echo "    \"installScript\": $(value "$(base64 <"$INSTALL_SCRIPT" | tr -d '\n')"),"
  echo "    \"storageAccountName\": $(value "$NAME"),"
  if [ "$MANAGED_IDENTITY" = false ]; then
    echo "    \"storageConnectionString\": $(keyvault_ref "$STORAGE_KEY_SECRET"),"
    echo "    \"azureTenantId\": $(value "$TENANT"),"
    echo "    \"azureClientId\": $(value "$SP_APP_ID"),"
    echo "    \"azureClientSecret\": $(keyvault_ref stowage-sp-secret),"
    echo "    \"azureAuthorityHost\": $(value "$AUTHORITY_HOST"),"
  fi
  echo "    \"storageEndpointSuffix\": $(value "$STORAGE_SUFFIX"),"
  echo "    \"storageApiVersion\": $(value "$STORAGE_API_VERSION"),"
  echo "    \"useManagedIdentity\": {\"value\": $MANAGED_IDENTITY},"
  echo "    \"keyVaultName\": $(value "$VAULT"),"
  echo "    \"keyVaultUrl\": $(value "$VAULT_URL"),"
  echo "    \"keyVaultApiVersion\": $(value "$KV_API"),"
  echo "    \"keyVaultDisableChallengeResourceVerification\": {\"value\": $KV_NO_CHALLENGE},"
  echo "    \"tlsSecretName\": $(value "$([ -n "$PFX" ] && echo stowage-tls)")"
  echo '  }'
  echo '}'
} >"$PARAMS_OUT.tmp"
if [ "$DRY_RUN" = 1 ]; then
  cat "$PARAMS_OUT.tmp"
  rm -f "$PARAMS_OUT.tmp"
else
  chmod 600 "$PARAMS_OUT.tmp"
  mv "$PARAMS_OUT.tmp" "$PARAMS_OUT"
fi

if [ "$DEPLOY" = 1 ]; then
  step "deployment"
  run az deployment group create --resource-group "$RG" --name stowage \
    --template-file "$TEMPLATE" --parameters "@$PARAMS_OUT" --output table
fi

cat >&2 <<EOF

Next:
  1. DNS: point $PUBLIC_HOST at the public IP (az network public-ip show -g $RG -n $NAME-ip --query ipAddress).
  2. First login: docker login $PUBLIC_HOST -u admin, with the password from
       az keyvault secret show --vault-name $VAULT --name stowage-admin-password --query value -o tsv
     then create named users and pull-only tokens (README, "Authentication") and stop using admin.
EOF
