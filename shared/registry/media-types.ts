/** Manifest media types the registry understands structurally. */
export const OCI_MANIFEST = "application/vnd.oci.image.manifest.v1+json";
export const OCI_INDEX = "application/vnd.oci.image.index.v1+json";
export const DOCKER_MANIFEST = "application/vnd.docker.distribution.manifest.v2+json";
export const DOCKER_MANIFEST_LIST = "application/vnd.docker.distribution.manifest.list.v2+json";

/** Manifests whose `manifests` array lists child manifests. */
export const INDEX_TYPES = new Set([OCI_INDEX, DOCKER_MANIFEST_LIST]);
/** Manifests with a config and layers. */
export const IMAGE_TYPES = new Set([OCI_MANIFEST, DOCKER_MANIFEST]);
