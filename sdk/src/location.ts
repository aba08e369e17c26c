// Where the phone is, in the datum the server measures geofences in (GCJ-02, what Chinese
// maps use), so the sign-in needs no conversion.
import { callWx, type WxLike } from './wx.js';

export interface Location {
  lat: number;
  lng: number;
  /** Metres, passed through as the sign-in's `accuracy_m` (the server refuses fixes above 1000 m). */
  accuracy: number | null;
}

/** `wx.getLocation({type: 'gcj02', isHighAccuracy: true})`; rejects with WxError when denied. */
export async function locate(wx: Pick<WxLike, 'getLocation'>): Promise<Location> {
  const res = await callWx((o: Parameters<WxLike['getLocation']>[0]) => wx.getLocation(o), {
    type: 'gcj02' as const,
    isHighAccuracy: true,
    // Without a cap a high-accuracy fix can take most of a minute indoors.
    highAccuracyExpireTime: 5000,
  });
  return {
    lat: res.latitude,
    lng: res.longitude,
    accuracy: typeof res.accuracy === 'number' && Number.isFinite(res.accuracy) ? res.accuracy : null,
  };
}
