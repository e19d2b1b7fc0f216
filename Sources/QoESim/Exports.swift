// `import QoESim` gives the whole library.
@_exported import QoESimEngine
@_exported import QoESimInput
@_exported import QoESimLatency
@_exported import QoESimCluster
@_exported import QoESimWorkload
@_exported import QoESimPolicies
@_exported import QoESimControl
