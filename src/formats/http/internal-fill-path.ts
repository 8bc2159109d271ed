/** Where a node serves its fills to followers on other nodes: `/-/internal/fills/<base64url of the fill key>`. */
export const INTERNAL_FILL_PREFIX = '/-/internal/fills/';

export const internalFillPath = (fillKey: string): string => INTERNAL_FILL_PREFIX + Buffer.from(fillKey).toString('base64url');

/** The fill key named by the last segment of an internal fill path. */
export const fillKeyOfSegment = (segment: string): string => Buffer.from(segment, 'base64url').toString('utf8');

/** Header of a leader's 404 when it has neither the fill nor the blob (finished and gone, or never had it): value `none`. */
export const NO_FILL_HEADER = 'x-repoint-fill';
